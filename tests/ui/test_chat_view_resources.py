"""Rendering an answer loads nothing that is not Lantern's own (issue 8, item 2).

A stored answer is text a model wrote, possibly steered by a document: its images must
not make the window read local files (``/dev/zero`` allocates until Qt aborts, a FIFO
blocks the GUI thread), nor fetch from a server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QSize, QUrl
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QApplication

from app.ui.chat_view import ChatView
from app.ui.rich_text import RichText
from tests.ui.conftest import write_red_png

ROOT = Path(__file__).resolve().parents[2]
RED = QColor(255, 0, 0).rgb()


@pytest.fixture
def view(qtbot: Any) -> ChatView:
    widget = ChatView()
    widget.resize(700, 500)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _show_answer(view: ChatView, markdown: str) -> QImage:
    """Show an answer, lay it out and paint it; the painted viewport."""
    view.show_messages(
        [
            {"role": "user", "content": "show me", "status": "complete"},
            {"role": "assistant", "content": markdown, "status": "complete"},
        ]
    )
    QApplication.processEvents()  # lays the items out (image sizes would be asked here)
    return view.viewport().grab().toImage()


def _red_pixels(image: QImage) -> int:
    return sum(
        image.pixel(x, y) == RED
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


@pytest.fixture
def red_png(tmp_path: Path) -> Path:
    return write_red_png(tmp_path / "red.png")


def test_the_probe_sees_an_image_lantern_supplies(view: ChatView, red_png: Path) -> None:
    """The red-pixel check works: the same image, given as the document's own resource,
    is painted (so the tests below would see a file that was read)."""
    name = QUrl("lantern-test:red")
    _show_answer(view, "An answer.")
    piece = view.items()[-1]._pieces()[0]
    piece.document().addResource(QTextDocument.ResourceType.ImageResource, name, QImage(red_png))
    piece.textCursor().insertImage(name.toString())
    QApplication.processEvents()
    assert _red_pixels(view.viewport().grab().toImage()) > 100


@pytest.mark.parametrize(
    "markdown",
    [
        "![x](file://{png})",
        "![x]({png})",
        '<img src="file://{png}">',
        '<p>see <img src="{png}" width="120" height="80"></p>',
    ],
)
def test_local_images_are_not_read(view: ChatView, red_png: Path, markdown: str) -> None:
    image = _show_answer(view, markdown.format(png=red_png) + "\n\nThe end.")
    assert _red_pixels(image) == 0
    assert view.toPlainText().rstrip().endswith("The end.")  # nothing after it is lost


def test_html_in_an_answer_is_shown_as_text(view: ChatView) -> None:
    _show_answer(view, 'Use <b>bold</b> or <img src="x.png"> here.\n\nThe end.')
    text = view.toPlainText()
    assert 'Use <b>bold</b> or <img src="x.png"> here.' in text and "The end." in text


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    handler: type[_Recorder] = type("Handler", (_Recorder,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def test_remote_images_and_styles_are_not_fetched(
    view: ChatView, qtbot: Any, http_server: tuple[str, list[str]]
) -> None:
    base, requests = http_server
    markdown = (
        f"![a]({base}/a.png)\n\n"
        f'<img src="{base}/b.png">\n\n'
        f'<link rel="stylesheet" href="{base}/c.css">\n\n'
        f"[a link is fine]({base}/d)"
    )
    _show_answer(view, markdown)
    view.begin_answer("model")  # the same answer while it streams, a piece at a time
    for start in range(0, len(markdown), 7):
        view.append_text(markdown[start : start + 7])
        view.flush()
        view.viewport().grab()
    view.end_answer()
    qtbot.wait(300)  # time for a request to arrive, if one was sent
    assert requests == []
    assert view.toPlainText().rstrip().endswith("a link is fine")


def _render_in_child(markdown: str, timeout_s: float = 30.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tests.ui.render_probe", markdown],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("markdown", ["![x](/dev/zero)", "![x](file:///dev/zero)"])
def test_dev_zero_is_not_read(markdown: str) -> None:
    started = time.monotonic()
    done = _render_in_child(markdown)
    assert done.returncode == 0 and "rendered" in done.stdout, done.stderr[-2000:]
    assert time.monotonic() - started < 30


@pytest.mark.timeout(120)
def test_a_named_pipe_does_not_block_the_window(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    try:
        done = _render_in_child(f"![x]({fifo})\n\n<img src='file://{fifo}'>", timeout_s=20)
    except subprocess.TimeoutExpired:
        pytest.fail("rendering an answer that names a FIFO blocked (the GUI thread would hang)")
    assert done.returncode == 0 and "rendered" in done.stdout, done.stderr[-2000:]


def test_bundled_qrc_resources_still_load(qtbot: Any) -> None:
    piece = RichText()  # an answer's text: the only place documents are rendered
    qtbot.addWidget(piece)
    name = ":/qt-project.org/styles/commonstyle/images/filedialog_end-128.png"  # Qt's own
    image = QTextDocument.ResourceType.ImageResource.value
    data = piece.loadResource(image, QUrl("qrc" + name))
    assert QImage.fromData(data).size() == QImage(name).size() == QSize(128, 128)
    blocked = piece.loadResource(image, QUrl("file:///etc/hostname"))
    assert isinstance(blocked, QImage) and blocked.size() == QSize(16, 16)
