"""`lantern models list|import|remove|default` through the real command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.models.starter import STARTER_NAME
from tests.cli.conftest import Run, assert_one_line_error


def _models(run: Run) -> dict[str, dict]:
    result = run("models", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {m["name"]: m for m in json.loads(result.stdout)}


def test_starter_is_registered_on_first_run(run: Run, smollm2_path: Path) -> None:
    models = _models(run)
    assert list(models) == [STARTER_NAME]
    starter = models[STARTER_NAME]
    assert starter["path"] == str(smollm2_path.resolve())
    assert starter["file_exists"] and starter["in_place"] and starter["default_chat"]
    assert (starter["kind"], starter["architecture"], starter["quantization"]) == (
        "chat",
        "llama",
        "Q4_1",
    )
    table = run("models", "list").stdout
    assert f"* {STARTER_NAME}" in table and "ok " in table


@pytest.mark.slow
def test_import_copy_and_in_place_then_remove(
    run: Run, smollm2_path: Path, gemma_path: Path, lantern_home: Path
) -> None:
    copied = run("models", "import", str(smollm2_path), "--name", "smol-copy")
    assert copied.returncode == 0, copied.stderr
    assert "Imported smol-copy: chat model, llama Q4_1" in copied.stdout
    placed = run("models", "import", str(gemma_path), "--name", "Gemma", "--in-place")
    assert placed.returncode == 0, placed.stderr
    assert "no chat template" in placed.stdout

    models = _models(run)
    assert set(models) == {STARTER_NAME, "smol-copy", "Gemma"}
    copy_path = Path(models["smol-copy"]["path"])
    assert copy_path.parent == lantern_home / "data" / "models"
    assert os.stat(copy_path).st_mode & 0o777 == 0o600
    assert not models["smol-copy"]["in_place"]
    assert models["Gemma"]["path"] == str(gemma_path.resolve())
    assert models["Gemma"]["has_chat_template"] is False

    made_default = run("models", "default", "gemma")
    assert made_default.returncode == 0, made_default.stderr
    assert _models(run)["Gemma"]["default_chat"]

    removed = run("models", "remove", "SMOL-COPY")
    assert removed.returncode == 0, removed.stderr
    assert "deleted its copy" in removed.stdout
    assert not copy_path.exists()
    kept = run("models", "remove", "Gemma")
    assert kept.returncode == 0 and "its file stays" in kept.stdout
    assert gemma_path.exists()
    assert list(_models(run)) == [STARTER_NAME]


def test_import_refuses_bad_files(run: Run, tmp_path: Path, smollm2_path: Path) -> None:
    random_bytes = tmp_path / "random.gguf"
    random_bytes.write_bytes(os.urandom(4096))
    assert_one_line_error(run("models", "import", str(random_bytes)), "not a valid GGUF")
    text = tmp_path / "notes.txt"
    text.write_text("just some text, not a model\n")
    assert_one_line_error(run("models", "import", str(text)), "not a valid GGUF")
    truncated = tmp_path / "truncated.gguf"
    with open(smollm2_path, "rb") as fh:
        truncated.write_bytes(fh.read(3_000_000))
    assert_one_line_error(run("models", "import", str(truncated)), "incomplete")
    missing = tmp_path / "missing.gguf"
    assert_one_line_error(run("models", "import", str(missing)), "not found")
    assert list(_models(run)) == [STARTER_NAME]
    assert list((tmp_path / "lantern-home" / "data" / "models").iterdir()) == []


def test_remove_unknown_model(run: Run) -> None:
    assert_one_line_error(run("models", "remove", "nope"), "No model named 'nope'")
