"""Attachment chips above the message box (app/ui/attachment_chips.py) in the real window:
what the shown chat draws on, and x to stop using it (its later answers no longer do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.chat.grounding import DocsScope, docs_scope
from app.knowledge.ingest import Ingestor
from app.store.conversations import get_conversation
from tests.ui.conftest import new_chat, settle

NOTE = "# Harbor Lighthouse\n\nThe Harbor Lighthouse was built in 1871 by Mara Quill.\n"


def _add(window: Any, qtbot: Any, paths: list[Path]) -> None:
    with qtbot.waitSignal(window.docs.changed, timeout=120_000):
        window.docs.add(paths)
    settle(window)


def _chip(window: Any, label: str) -> Any:
    [chip] = [c for c in window.docs.chips.chips if c.attachment.label == label]
    return chip


def test_chips_show_what_the_chat_uses_and_x_stops_it(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    folder = tmp_path / "logs"
    folder.mkdir()
    for n in range(2):
        (folder / f"log{n}.md").write_text(f"# Log {n}\n\nFog on day {n}.\n", encoding="utf-8")
    Ingestor(window.db).add([note], collection="harbor")
    cid = new_chat(window)
    assert not window.docs.chips.isVisible()  # a chat with no documents: no chips

    _add(window, qtbot, [note, folder])
    window.docs.use_collection("harbor")
    settle(window)
    chips = window.docs.chips
    assert chips.isVisible()
    assert chips.labels() == ["harbor", "lighthouse.md", "logs"]
    assert _chip(window, "logs").label.text() == "logs (2)"
    assert _chip(window, "harbor").label.text() == "Collection harbor (1)"
    assert docs_scope(window.db, cid) == DocsScope("harbor", cid)

    # x on the file: the chat's own documents no longer hold it
    with qtbot.waitSignal(window.docs.changed, timeout=30_000):
        _chip(window, "lighthouse.md").remove_button.click()
    assert chips.labels() == ["harbor", "logs"]
    assert "no longer use lighthouse.md" in window.banner.text()
    from app.knowledge.retrieve import search

    assert not search(window.db, "Mara Quill lighthouse", conversation_id=cid).hits

    # x on the collection: the chat stops drawing on it
    _chip(window, "harbor").remove_button.click()
    settle(window)
    assert get_conversation(window.db, cid)["docs_collection"] is None
    assert chips.labels() == ["logs"]
    with qtbot.waitSignal(window.docs.changed, timeout=30_000):
        _chip(window, "logs").remove_button.click()
    assert chips.labels() == [] and not chips.isVisible()
    assert docs_scope(window.db, cid) is None  # later answers are not grounded at all


def test_chips_follow_the_chat_on_screen(window: Any, qtbot: Any, tmp_path: Path) -> None:
    note = tmp_path / "tides.md"
    note.write_text("# Tides\n\nHigh tide at noon.\n", encoding="utf-8")
    first = new_chat(window)
    _add(window, qtbot, [note])
    second = new_chat(window)
    assert window.chat.shown_id == second
    assert window.docs.chips.labels() == []
    window.sidebar.select(first)
    qtbot.waitUntil(lambda: window.docs.chips.labels() == ["tides.md"], timeout=10_000)
    window.sidebar.select(second)
    qtbot.waitUntil(lambda: window.docs.chips.labels() == [], timeout=10_000)
