"""The Documents view (app/ui/documents_view.py) in the real window: collections made,
renamed and deleted; files and folders added with their states (real PDFs, a damaged
one); re-index and remove; every refused input said in the message line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.knowledge import collections as colls
from app.store.conversations import get_conversation, update_settings
from app.ui import documents_view
from tests.fixtures.docs.make import make_pdf
from tests.ui.conftest import new_chat


def _open(window: Any) -> Any:
    [action] = [a for a in window.chat_menu.actions() if a.text() == "&Documents\u2026"]
    assert action.shortcut().toString() == "Ctrl+Shift+D"
    action.trigger()
    view = window.docs.view
    assert view is not None and view.isVisible()
    return view


def _wait_changed(window: Any, qtbot: Any, act: Any, timeout: int = 120_000) -> None:
    """Do ``act`` and wait until the collections changed (written, problems recorded)."""
    with qtbot.waitSignal(window.docs.changed, timeout=timeout):
        act()


def _names(view: Any) -> list[str]:
    return [view.collections.item(n).data(256) for n in range(view.collections.count())]


def _make(window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, typed: str) -> Any:
    view = _open(window)
    monkeypatch.setattr(documents_view, "ask_name", lambda *_a, **_k: typed)
    view.new_button.click()
    qtbot.waitUntil(lambda: view.controller.documents.pending == 0, timeout=30_000)
    return view


def test_new_collection_from_the_window_and_bad_names_are_refused(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _open(window)
    assert not view.add_folder_button.isEnabled()  # nothing to add to yet
    assert "New" in view.files_title.text()
    for typed, says in (("   ", "needs a name"), ("conversation-3", "kept for a chat")):
        monkeypatch.setattr(documents_view, "ask_name", lambda *_a, _t=typed, **_k: _t)
        view.new_button.click()
        qtbot.waitUntil(lambda: view.controller.documents.pending == 0, timeout=30_000)
        assert says in view.message.text()
        assert "b3261e" in view.message.styleSheet()  # shown as an error
    _make(window, qtbot, monkeypatch, "Ship manuals")
    assert _names(view) == ["Ship manuals"]
    assert view.current == "Ship manuals" and view.add_folder_button.isEnabled()
    _make(window, qtbot, monkeypatch, "ship MANUALS")
    assert "already a collection" in view.message.text()
    assert _names(view) == ["Ship manuals"]


def test_a_folder_with_a_real_pdf_and_a_damaged_one_shows_each_files_state(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    make_pdf(folder / "tides.pdf", [["High tide is at noon."], ["Low tide at six."]])
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    view = _make(window, qtbot, monkeypatch, "Harbour")
    monkeypatch.setattr(
        documents_view.QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(folder)
    )
    _wait_changed(window, qtbot, view.add_folder_button.click)
    qtbot.waitUntil(lambda: view.files.topLevelItemCount() == 2, timeout=10_000)
    tides = view.files.row_of("tides.pdf")
    assert tides["State"] == "Indexed (keywords only)"  # no embedding model in this home
    assert (tides["Pages"], tides["Chunks"]) == ("2", "2")
    broken = view.files.row_of("broken.pdf")
    assert broken["State"] == "Not indexed"
    assert "damaged" in broken["Details"]
    assert "1 need attention" in view.files_title.text()
    window.docs.start_watching()  # the window starts it a second after it opens
    assert window.docs.watcher.folders == {str(folder): {"Harbour"}}

    # the damaged file is replaced by a good one: Re-index picks it up, the problem goes
    make_pdf(folder / "broken.pdf", [["Fixed now: the harbour master is Ida."]])
    _wait_changed(window, qtbot, view.reindex_button.click)
    assert view.files.row_of("broken.pdf")["State"] == "Indexed (keywords only)"
    assert "need attention" not in view.files_title.text()

    # a file deleted on disk: shown as gone until a re-index drops it
    (folder / "tides.pdf").unlink()
    view.refresh()
    assert view.files.row_of("tides.pdf")["State"] == "File gone"
    _wait_changed(window, qtbot, view.reindex)
    with pytest.raises(KeyError):
        view.files.row_of("tides.pdf")

    # Remove: the selected file is forgotten, the file stays on disk
    view.files.topLevelItem(0).setSelected(True)
    _wait_changed(window, qtbot, view.remove_button.click)
    assert view.files.topLevelItemCount() == 0
    assert (folder / "broken.pdf").exists()


def test_rename_and_delete_keep_chats_in_step(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    note = tmp_path / "keeper.md"
    note.write_text("# Keeper\n\nThe keeper is Ida.\n", encoding="utf-8")
    view = _make(window, qtbot, monkeypatch, "Harbour")
    _wait_changed(window, qtbot, lambda: view.add_paths([note]))
    cid = new_chat(window)
    update_settings(window.db, cid, docs_collection="Harbour")

    monkeypatch.setattr(documents_view, "ask_name", lambda *_a, **_k: "Port")
    _wait_changed(window, qtbot, view.rename_button.click)
    assert _names(view) == ["Port"]
    assert get_conversation(window.db, cid)["docs_collection"] == "Port"

    monkeypatch.setattr(documents_view, "confirm", lambda *_a, **_k: False)
    view.delete_button.click()  # said no
    assert _names(view) == ["Port"]
    monkeypatch.setattr(documents_view, "confirm", lambda *_a, **_k: True)
    _wait_changed(window, qtbot, view.delete_button.click)
    assert _names(view) == []
    assert get_conversation(window.db, cid)["docs_collection"] is None
    assert colls.named_collections(window.db) == []
    assert note.exists()


def test_files_dropped_on_the_table_go_into_the_collection(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.ui.test_docs_controller import _drop

    pdf = make_pdf(tmp_path / "keeper.pdf", [["The keeper is Ida."]])
    view = _make(window, qtbot, monkeypatch, "Harbour")
    _wait_changed(window, qtbot, lambda: _drop(view.files.viewport(), [pdf]))
    assert view.files.row_of("keeper.pdf")["Pages"] == "1"
    assert window.chat.shown_id is None, "the drop went to the collection, not a new chat"


def test_adding_a_path_that_is_not_there_is_refused(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    view = _make(window, qtbot, monkeypatch, "Harbour")
    view.add_paths([tmp_path / "nowhere.pdf"])
    assert "There is no file or folder" in view.message.text()
    assert view.controller.client is None or not view.controller.client.busy


def test_a_file_saved_into_a_watched_folder_is_indexed_by_the_window(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "first.md").write_text("# First\n\nThe harbour opens at dawn.\n", encoding="utf-8")
    view = _make(window, qtbot, monkeypatch, "Harbour")
    _wait_changed(window, qtbot, lambda: view.add_paths([folder]))
    window.docs.start_watching()
    assert window.docs.watcher.folders == {str(folder): {"Harbour"}}

    # a real file written by another program: watchdog -> debounce -> ingest rescan
    with qtbot.waitSignal(window.docs.changed, timeout=120_000):
        make_pdf(folder / "tides.pdf", [["High tide is at noon on Sundays."]])
    qtbot.waitUntil(lambda: view.files.topLevelItemCount() == 2, timeout=10_000)
    assert view.files.row_of("tides.pdf")["State"] == "Indexed (keywords only)"

    with qtbot.waitSignal(window.docs.changed, timeout=120_000):
        (folder / "first.md").unlink()
    qtbot.waitUntil(lambda: view.files.topLevelItemCount() == 1, timeout=10_000)
    with pytest.raises(KeyError):
        view.files.row_of("first.md")
