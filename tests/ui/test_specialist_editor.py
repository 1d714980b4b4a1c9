"""The specialist editor: list, add, edit, delete through the worker, with clear messages
for what the store refuses; the GUI thread only reads."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.models.starter import STARTER_NAME
from app.store import specialists as store
from app.ui.specialist_editor import SpecialistEditor


@pytest.fixture
def editor(window: Any, qtbot: Any) -> SpecialistEditor:
    made = window.specialists.open_specialists()
    qtbot.waitExposed(made)
    return made


def click(qtbot: Any, button: Any) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_lists_the_four_example_specialists(editor: SpecialistEditor) -> None:
    assert editor.names() == ["General", "Code", "Writing", "Documents"]
    assert editor.list.item(0).text() == "General  (default)"
    editor.select("Code")
    assert editor.form.name.text() == "Code"
    assert "keyword: traceback" in editor.form.rules.toPlainText()
    assert editor.form.sampling.currentText() == "Code"
    assert editor.form.model.currentData() is None  # the default chat model
    assert editor.form.model.currentText() == f"Default chat model ({STARTER_NAME})"
    assert STARTER_NAME in [editor.form.model.itemText(i) for i in range(editor.form.model.count())]


def test_semantic_routing_off_is_said_without_an_embedding_model(editor: SpecialistEditor) -> None:
    assert editor.routing_notice.isVisible()
    assert editor.routing_notice.text().startswith("Semantic routing is off.")


def test_add_a_specialist(editor: SpecialistEditor, qtbot: Any, window: Any) -> None:
    click(qtbot, editor.new_button)
    assert editor.save_button.text() == "Add specialist"
    form = editor.form
    qtbot.keyClicks(form.name, "SQL")
    form.description.setPlainText("Databases and SQL queries.")
    form.examples.setPlainText("join two tables\nwhy is my query slow")
    form.model.setCurrentIndex(form.model.findData(STARTER_NAME))
    form.rules.setPlainText("keyword: select\nregex: \\bjoin\\b")
    form.threshold.setValue(0.4)
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: "SQL" in editor.names())
    saved = store.find_specialist(window.db, "SQL")
    assert saved is not None
    assert saved["examples"] == ["join two tables", "why is my query slow"]
    assert saved["model"] == STARTER_NAME and saved["threshold"] == pytest.approx(0.4)
    assert saved["rules"] == ["keyword: select", "regex: \\bjoin\\b"]
    assert editor.list.currentItem().text() == "SQL"  # the new one is selected


def test_edit_and_rename(editor: SpecialistEditor, qtbot: Any, window: Any) -> None:
    editor.select("Writing")
    editor.form.name.setText("Editing")
    editor.form.system_prompt.setPlainText("Be concise.")
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: "Editing" in editor.names())
    assert "Writing" not in editor.names()
    assert store.find_specialist(window.db, "Editing")["system_prompt"] == "Be concise."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.name.setText("C++ / Rust!"), "is not a usable specialist name"),
        (lambda f: f.name.setText("general"), "already a specialist 'general'"),
        (lambda f: f.rules.setPlainText("regex: (unclosed"), "not a valid regular expression"),
    ],
)
def test_refused_values_are_explained_and_kept(
    editor: SpecialistEditor, qtbot: Any, window: Any, change: Any, message: str
) -> None:
    editor.select("Code")
    change(editor.form)
    typed = editor.form.values()
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: message in editor.error.text())
    assert editor.form.values() == typed  # nothing the user typed is lost
    assert store.find_specialist(window.db, "Code")["rules"][0] == "keyword: traceback"
    assert not window.banner.isVisible()  # shown in the editor, not the chat


def test_delete_asks_and_the_default_cannot_be_deleted(
    editor: SpecialistEditor, qtbot: Any, window: Any
) -> None:
    editor.select("Documents")
    editor.delete(confirm=False)
    qtbot.waitUntil(lambda: "Documents" not in editor.names())
    assert store.find_specialist(window.db, "Documents") is None
    editor.select("General")
    editor.delete(confirm=False)
    qtbot.waitUntil(lambda: "default specialist" in editor.error.text())
    assert "General" in editor.names()


def test_making_another_specialist_the_default(
    editor: SpecialistEditor, qtbot: Any, window: Any
) -> None:
    editor.select("Code")
    editor.form.is_default.setChecked(True)
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: editor.list.item(1).text() == "Code  (default)")
    assert store.default_specialist(window.db)["name"] == "Code"
    assert editor.list.item(0).text() == "General"


def test_attach_a_lora_adapter_with_a_scale(window: Any, qtbot: Any, tmp_path: Any) -> None:
    from app.models.registry import register_file
    from tests.specialists.lora_files import write_adapter

    adapter = write_adapter(tmp_path / "tone.gguf", layers=2)  # a real GGUF LoRA adapter
    register_file(window.db, adapter, name="tone")  # as an import registers it
    editor = window.specialists.open_specialists()
    editor.select("Writing")
    assert editor.form.adapters.add_button.isEnabled()
    click(qtbot, editor.form.adapters.add_button)
    editor.form.adapters.table.cellWidget(0, 1).setValue(0.5)
    with qtbot.waitSignal(editor.changed, timeout=30_000):  # saved by the worker
        click(qtbot, editor.save_button)
    assert editor.form.adapters.values() == [{"name": "tone", "scale": 0.5}]  # shown again
    saved = store.find_specialist(window.db, "Writing")
    assert saved["adapters"] == [{"name": "tone", "scale": 0.5}]


def test_remote_endpoints_are_offered_as_fallbacks(window: Any, qtbot: Any) -> None:
    from app.store.remote_endpoints import add_endpoint

    add_endpoint(window.db, "team", "http://127.0.0.1:9/v1", "big-model")  # test setup
    editor = window.specialists.open_specialists()
    editor.select("Code")
    fallback = editor.form.fallback
    choices = [fallback.itemData(i) for i in range(fallback.count())]
    assert choices[0] is None and STARTER_NAME in choices and "remote:team" in choices
    fallback.setCurrentIndex(choices.index("remote:team"))
    editor.form.allow_remote.setChecked(True)
    with qtbot.waitSignal(editor.changed, timeout=30_000):
        click(qtbot, editor.save_button)
    saved = store.find_specialist(window.db, "Code")
    assert (saved["fallback"], saved["allow_remote"]) == ("remote:team", True)


def test_remote_servers_are_added_and_edited_in_the_editor(
    editor: SpecialistEditor, window: Any, qtbot: Any
) -> None:
    from app.store.remote_endpoints import endpoint_key, get_endpoint

    dialog = editor.open_servers()
    panel = dialog.panel
    panel.name.setText("team")
    panel.url.setText("http://127.0.0.1:9/v1")
    panel.model.setText("big-model")
    panel.key.setText("sk-team-1")
    with qtbot.waitSignal(panel.changed, timeout=30_000):  # saved by the worker
        click(qtbot, panel.save_button)
    assert panel.names() == ["team"]
    assert "No OS keyring" in panel.message.text()  # where the key went is said
    row = get_endpoint(window.db, "team")
    assert (row["model"], endpoint_key(window.db, row)) == ("big-model", "sk-team-1")
    assert panel.key.text() == "" and panel.key.placeholderText().startswith("Leave empty")
    panel.model.setText("bigger-model")  # an edit without a new key keeps the key
    with qtbot.waitSignal(panel.changed, timeout=30_000):
        click(qtbot, panel.save_button)
    row = get_endpoint(window.db, "team")
    assert (row["model"], endpoint_key(window.db, row)) == ("bigger-model", "sk-team-1")
    panel.url.setText("ftp://nowhere")
    click(qtbot, panel.save_button)
    qtbot.waitUntil(lambda: "not an http" in panel.message.text(), timeout=30_000)
    # the specialist form now offers the server as model and fallback
    models = [editor.form.model.itemData(i) for i in range(editor.form.model.count())]
    assert "remote:team" in models
    editor.select("Documents")
    editor.form.model.setCurrentIndex(models.index("remote:team"))
    editor.form.allow_remote.setChecked(True)
    assert editor.form.remote_documents.isEnabled()
    editor.form.remote_documents.setChecked(True)
    with qtbot.waitSignal(editor.changed, timeout=30_000):
        click(qtbot, editor.save_button)
    saved = store.find_specialist(window.db, "Documents")
    assert (saved["model"], saved["allow_remote"], saved["remote_documents"]) == (
        "remote:team", True, True,
    )  # fmt: skip
