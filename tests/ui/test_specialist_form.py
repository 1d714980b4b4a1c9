"""The specialist form shows every field of a specialist and gives back what was typed."""

from __future__ import annotations

from typing import Any

from app.ui.specialist_form import DEFAULT_MODEL, SpecialistForm

CODE: dict[str, Any] = {
    "name": "Code",
    "description": "Programming questions, code review, error messages.",
    "examples": ["why does this crash?", "write a regex for dates"],
    "model": "SmolLM2-135M-Instruct",
    "adapters": [{"name": "code-lora", "scale": 0.75}],
    "system_prompt": "You are a careful programmer.",
    "sampling": "Precise",
    "collection": "manuals",
    "fallback": "gemma-3-270m",
    "threshold": 0.35,
    "allow_remote": False,
    "remote_documents": False,
    "rules": ["keyword: traceback", "regex: ^def \\w+", "file: .py"],
    "is_default": False,
}


def form_with_choices(qtbot: Any) -> SpecialistForm:
    form = SpecialistForm()
    qtbot.addWidget(form)
    form.set_choices(
        models=["SmolLM2-135M-Instruct", "gemma-3-270m"],
        adapters=["code-lora"],
        presets=["Balanced", "Precise"],
        collections=["manuals"],
        fallbacks=["gemma-3-270m"],
    )
    return form


def test_a_specialist_round_trips_through_the_form(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    form.set_values(CODE)
    assert form.values() == CODE


def test_a_new_specialist_starts_empty_with_the_default_model(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    form.set_values(None)
    values = form.values()
    assert form.model.currentText() == DEFAULT_MODEL and values["model"] is None
    assert values["adapters"] == [] and values["threshold"] is None
    assert values["collection"] is None and values["fallback"] is None
    assert form.threshold.text() == "Never (only when asked)"


def test_a_model_that_is_not_installed_any_more_is_kept_and_marked(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    form.set_values({**CODE, "model": "phi-3-mini"})
    assert form.model.currentText() == "phi-3-mini (not installed)"
    assert form.values()["model"] == "phi-3-mini"  # saving it again loses nothing


def test_adapters_are_added_with_a_scale_and_removed(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    form.set_values({**CODE, "adapters": []})
    form.adapters.add("code-lora", 1.5)
    assert form.values()["adapters"] == [{"name": "code-lora", "scale": 1.5}]
    form.adapters.table.selectRow(0)
    form.adapters.remove_selected()
    assert form.values()["adapters"] == []


def test_without_installed_adapters_adding_one_says_why(qtbot: Any) -> None:
    form = SpecialistForm()
    qtbot.addWidget(form)
    assert not form.adapters.add_button.isEnabled()
    assert "No LoRA adapter is installed" in form.adapters.add_button.toolTip()


def test_blank_lines_in_examples_and_rules_are_dropped(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    form.examples.setPlainText("  fix my SQL \n\n\n explain this error ")
    form.rules.setPlainText("keyword: sql\n\n")
    values = form.values()
    assert values["examples"] == ["fix my SQL", "explain this error"]
    assert values["rules"] == ["keyword: sql"]


def test_custom_sampling_values_are_kept(qtbot: Any) -> None:
    form = form_with_choices(qtbot)
    custom = {"temperature": 0.2, "top_p": 0.9}
    form.set_values({**CODE, "sampling": custom})
    assert form.sampling.currentText() == "Custom: temperature 0.2, top_p 0.9"
    assert form.values()["sampling"] == custom
