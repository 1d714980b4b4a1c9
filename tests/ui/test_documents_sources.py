"""The Sources panel belongs to the chat on screen, and a source that cannot be opened
says why and shows its passage (and a PDF's page, rendered with pypdfium2) in Lantern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from app.store.citations import save_citations
from app.store.messages import add_message, save_sources
from app.ui.source_preview import SourcePreview, render_pdf_page
from tests.fixtures.docs.make import make_pdf
from tests.ui.conftest import new_chat


def _answer(window: Any, cid: int, sources: list[dict[str, Any]]) -> int:
    user = add_message(window.db, cid, "user", "Who built it?")
    answer = add_message(window.db, cid, "assistant", "Mara Quill built it.", parent_id=user["id"])
    save_sources(window.db, answer["id"], sources)
    return int(answer["id"])


def _source(file: Path | str, text: str, page: int = 1) -> dict[str, Any]:
    return {"file": str(file), "page": page, "text": text, "score": 0.5}


def test_switching_chats_shows_that_chats_sources_or_none(window: Any, qtbot: Any) -> None:
    first = new_chat(window)
    a = _answer(window, first, [_source("/docs/a.pdf", "built by Mara Quill")])
    save_citations(window.db, a, [{"sentence": "Mara Quill built it.", "source": 1, "score": 0.8}])
    second = new_chat(window)
    _answer(window, second, [_source("/docs/b.md", "in 1871"), _source("/docs/c.md", "42 m")])
    third = new_chat(window)
    panel, dock = window.docs.sources, window.docs.dock

    window.sidebar.select(first)
    qtbot.waitUntil(lambda: panel.message_id == a, timeout=10_000)
    assert [s["file"] for s in panel.sources] == ["/docs/a.pdf"] and dock.isVisible()
    assert panel.sentences_title.text() == "Sentences: 1 supported, 0 not found"
    window.sidebar.select(second)
    qtbot.waitUntil(lambda: len(panel.sources) == 2, timeout=10_000)
    assert panel.sentences.count() == 0
    window.sidebar.select(third)
    qtbot.waitUntil(lambda: panel.sources == [], timeout=10_000)
    assert not dock.isVisible()

    # an answer of a chat not on screen (it was switched away from) does not take the panel
    window.client.worker.sources_ready.emit(a, [_source("/docs/x.pdf", "other")])
    qtbot.wait(50)
    assert panel.sources == [] and not dock.isVisible()


def test_a_gone_source_says_why_and_shows_the_passage_in_lantern(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    cid = new_chat(window)
    gone = tmp_path / "gone.pdf"
    answer = _answer(window, cid, [_source(gone, "The lamp is lit at dusk.", page=3)])
    new_chat(window)
    window.sidebar.select(cid)
    panel = window.docs.sources
    qtbot.waitUntil(lambda: panel.message_id == answer, timeout=10_000)
    launched: list[Any] = []
    panel.launcher = lambda target: launched.append(target) or True  # fake: never reached
    panel.activate(1)
    box = panel.explain_box
    assert box is not None and box.isVisible()
    assert "not there any more" in box.text() and "gone.pdf" in box.text()
    assert launched == []
    [show] = [b for b in box.buttons() if b.text() == "Show the passage in Lantern"]
    show.click()
    preview = panel.source_preview
    assert preview.isVisible()
    assert preview.passage.toPlainText() == "The lamp is lit at dusk."
    assert not preview.has_page  # the file is gone: the passage only
    preview.close()


def test_when_no_program_opens_it_the_window_says_so(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    note = tmp_path / "notes.md"
    note.write_text("# Notes\n\nFog horn twice.\n", encoding="utf-8")
    cid = new_chat(window)
    _answer(window, cid, [_source(note, "Fog horn twice.")])
    new_chat(window)
    window.sidebar.select(cid)
    panel = window.docs.sources
    qtbot.waitUntil(lambda: len(panel.sources) == 1, timeout=10_000)
    # a fake for what cannot exist here: the desktop refusing (openUrl returning False)
    panel.launcher = lambda _target: False
    panel.activate(1)
    assert "No program could open notes.md" in panel.explain_box.text()
    panel.explain_box.button(QMessageBox.StandardButton.Close).click()
    assert not panel.explain_box.isVisible()


def test_the_preview_renders_the_pdf_page_with_its_text(qtbot: Any, tmp_path: Path) -> None:
    pdf = make_pdf(
        tmp_path / "manual.pdf",
        [["First page."], ["The keeper lights the lamp at dusk every day of the year."]],
    )
    image = render_pdf_page(str(pdf), 2)
    assert image is not None and image.width() > 500 and image.height() > 700
    dark = sum(
        1
        for y in range(0, 120)
        for x in range(0, image.width(), 2)
        if image.pixelColor(x, y).lightness() < 128
    )
    assert dark > 50, "the page's text is drawn near its top"
    assert render_pdf_page(str(pdf), 3) is None  # no such page
    preview = SourcePreview(_source(pdf, "The keeper lights the lamp", page=2))
    qtbot.addWidget(preview)
    assert preview.has_page and preview.page_image.pixmap().width() == 700  # fits the dialog
    assert "manual.pdf, page 2" in preview.windowTitle()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    assert render_pdf_page(str(bad), 1) is None


def test_citations_added_by_attribution_show_in_the_answer(window: Any, qtbot: Any) -> None:
    cid = new_chat(window)
    user = add_message(window.db, cid, "user", "When was it built?")
    text = "It was built in 1871 by Mara Quill. It was painted red in 1953."
    answer = add_message(window.db, cid, "assistant", text, parent_id=user["id"])
    save_sources(window.db, answer["id"], [_source("/docs/a.md", "built in 1871 by Mara Quill")])
    save_citations(
        window.db,
        answer["id"],
        [
            {"sentence": "It was built in 1871 by Mara Quill.", "source": 1, "score": 0.9},
            {"sentence": "It was painted red in 1953.", "source": None, "score": 0.2},
        ],
    )
    new_chat(window)
    window.sidebar.select(cid)
    qtbot.waitUntil(lambda: window.docs.sources.message_id == answer["id"], timeout=10_000)
    item = window.chat_view.item_for(answer["id"])
    shown = item.display_text()
    assert f"Mara Quill. [\\[1\\]](cite:{answer['id']}:1)" in shown  # the model wrote no [1]
    assert "1953. \u26a0\ufe0e *(not found in your documents)*" in shown
    assert "not found in your documents" in window.chat_view.toHtml()


def test_attribution_adds_no_second_marker_where_the_model_wrote_one() -> None:
    from app.ui.citation_links import attributed_markdown

    citations = [
        {"sentence": "Built in 1871.", "source": 1, "score": 0.9},
        {"sentence": "Red in 1953.", "source": None, "score": 0.1},
        {"sentence": "Not in the text.", "source": 1, "score": 0.9},
    ]
    own = attributed_markdown("Built in 1871 [1]. Red in 1953.", citations[1:], 1)
    assert own == "Built in 1871 [1]. Red in 1953. \u26a0\ufe0e *(not found in your documents)*"
    added = attributed_markdown("Built in 1871. Red in 1953.", citations, 1)
    assert added.startswith("Built in 1871. [1] Red in 1953. \u26a0")
    assert attributed_markdown("Built in 1871.", citations[:1], 0) == "Built in 1871."


def test_attribution_marks_and_links_stay_out_of_code() -> None:
    """An answer's code block is shown as code: a "not found" mark or a ``[n]`` link put
    there would be shown inside the code (seen under Xvfb in a bash block). The mark
    goes only after prose; ``[1]`` in code stays code."""
    from app.ui.citation_links import (
        NOT_FOUND_MARK,
        attributed_markdown,
        link_citations_markdown,
        remember_attribution,
    )

    text = (
        "You can use the exit command to leave the debugger.\n\n"
        "```bash\nexit -1  # or exit +1 for a more precise option\n```\n\n"
        "Then `items[1]` is read again."
    )
    citations = [
        {"sentence": "You can use the exit command to leave the debugger.", "source": 1},
        {"sentence": "exit -1  # or exit +1 for a more precise option", "source": None},
        {"sentence": "Then `items[1]` is read again.", "source": None},
    ]
    marked = attributed_markdown(text, citations, 2)
    assert "option\n```" in marked  # the code block is as the model wrote it
    assert marked.startswith("You can use the exit command to leave the debugger. [1]")
    assert marked.endswith("is read again." + NOT_FOUND_MARK)
    assert marked.count(NOT_FOUND_MARK) == 1

    remember_attribution(77, citations)
    linked = link_citations_markdown(text, 77, 2)
    assert "`items[1]`" in linked  # not a citation link inside inline code
    assert "debugger. [\\[1\\]](cite:77:1)" in linked
