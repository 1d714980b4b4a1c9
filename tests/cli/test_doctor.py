"""`lantern doctor [--json]` reports the machine, the build, the paths and the models."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import llama_cpp
import PySide6
import sqlite_utils

from app.models.starter import STARTER_NAME
from app.store.settings import set_setting
from tests.cli.conftest import Run, assert_one_line_error


def test_doctor_json(run: Run, lantern_home: Path) -> None:
    result = run("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"]["version"] == platform.python_version()
    assert report["qt"] == {
        "installed": True,
        "pyside6": PySide6.__version__,
        "qt": report["qt"]["qt"],
    }
    llama = report["llama_cpp"]
    assert llama["installed"] and llama["version"] == llama_cpp.__version__
    assert llama["gpu_offload_supported"] == bool(llama_cpp.llama_supports_gpu_offload())
    assert llama["backend"] == ("cpu" if not llama["gpu_offload_supported"] else llama["backend"])
    assert report["threads"]["default_threads"] >= 1
    assert report["memory"]["total_bytes"] >= report["memory"]["available_bytes"] > 0
    assert report["paths"]["data"] == str(lantern_home / "data")
    assert report["paths"]["database"] == str(lantern_home / "data" / "lantern.db")
    assert report["database"] == {"ok": True}
    assert [(m["name"], m["file_exists"]) for m in report["models"]] == [(STARTER_NAME, True)]
    assert report["problems"] == []


def test_doctor_text(run: Run) -> None:
    result = run("doctor")
    assert result.returncode == 0, result.stderr
    for label in ("Python", "Qt", "llama.cpp", "Threads", "Memory", "database:", "Models"):
        assert label in result.stdout
    assert STARTER_NAME in result.stdout


def test_doctor_reports_a_missing_model_file(run: Run, tmp_path: Path, smollm2_path: Path) -> None:
    gone = tmp_path / "gone.gguf"
    gone.write_bytes(smollm2_path.read_bytes())
    assert run("models", "import", str(gone), "--in-place", "--name", "gone").returncode == 0
    gone.unlink()
    result = run("doctor", "--json")
    assert_one_line_error(result, "the file of model gone is missing")
    report = json.loads(result.stdout)
    assert {m["name"]: m["file_exists"] for m in report["models"]} == {
        "gone": False,
        STARTER_NAME: True,
    }


def test_doctor_says_how_chat_models_decode(run: Run, db: sqlite_utils.Database) -> None:
    expected_flash = "off" if not llama_cpp.llama_supports_gpu_offload() else "auto"
    report = json.loads(run("doctor", "--json").stdout)
    assert report["decoding"]["flash_attn"] == expected_flash
    set_setting(db, "engine.draft", 8)  # the window's settings dialog writes the same row
    report = json.loads(run("doctor", "--json").stdout)
    # drafting by number loads chat models with flash attention on (app.engine.attention)
    assert report["decoding"] == {"flash_attn": "on", "drafting": "on, up to 8 tokens a step"}
    assert "Decoding    flash attention on" in run("doctor").stdout
