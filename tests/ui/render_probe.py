"""Render one stored answer in a ChatView, in a child process (tests/ui/test_chat_view_resources).

``python -m tests.ui.render_probe MARKDOWN`` shows a conversation whose answer is
MARKDOWN, lays it out and paints it offscreen, then prints ``rendered``. The address
space is capped first, so an answer that makes Qt read ``/dev/zero`` fails fast instead
of taking the machine's memory; a read that blocks (a FIFO) is ended by the parent's
timeout.
"""

from __future__ import annotations

import os
import resource
import sys

ADDRESS_SPACE = 3 * 1024**3  # far above a rendered window, far below a 4 GB read


def main(markdown: str) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from app.ui.chat_view import ChatView

    app = QApplication([])
    view = ChatView()
    view.resize(700, 500)
    view.show()
    view.show_messages(
        [
            {"role": "user", "content": "show me", "status": "complete"},
            {"role": "assistant", "content": markdown, "status": "complete"},
        ]
    )
    app.processEvents()  # lays the messages out (image sizes would be asked here)
    view.viewport().grab()  # and paints them
    app.processEvents()
    print("rendered", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
