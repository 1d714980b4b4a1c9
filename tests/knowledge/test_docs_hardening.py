"""`lantern docs`: odd options and unreadable folders are said, not skipped silently."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from app.cli import main
from app.knowledge.retrieve import KEYWORD_ONLY_NOTICE
from app.knowledge.scan import expand
from tests.engine.gguf_files import write_tiny_gguf
from tests.fixtures.unprivileged import NOBODY, as_nobody, traversable_folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("size", ["nan", "inf", "-inf", "0", "-5", "1e300", "lots"])
def test_max_size_must_be_a_real_size(
    lantern_home: Path, tmp_path: Path, size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("the lamp is lit at dusk")
    with pytest.raises(SystemExit) as exit_info:
        main(["docs", "add", str(tmp_path / "a.txt"), "--keyword-only", f"--max-size={size}"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "--max-size" in err and "megabytes" in err and "Traceback" not in err


@pytest.mark.parametrize("k", ["-5", "0", "x"])
def test_search_refuses_k_below_one(
    lantern_home: Path, k: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["docs", "search", "lamp", "-k", k])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "-k" in err and "Traceback" not in err


def test_search_k_one_gives_one(
    lantern_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        (tmp_path / f"{n}.txt").write_text(f"the lamp number {n} is lit at dusk")
    assert _run(capsys, "docs", "add", str(tmp_path), "--keyword-only")[0] == 0
    code, out, _ = _run(capsys, "docs", "search", "lamp", "-k", "1", "--json")
    assert code == 0 and len(json.loads(out)["results"]) == 1


def test_keyword_only_says_it_was_asked_for_when_a_model_is_installed(
    lantern_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = write_tiny_gguf(tmp_path / "tiny-bert.gguf")
    code, _, err = _run(capsys, "models", "import", str(model), "--name", "emb")
    assert code == 0, err
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("the lamp is lit at dusk")
    code, _, err = _run(capsys, "docs", "add", str(docs), "--keyword-only")
    assert code == 0
    assert "no embedding model is installed" not in err
    assert "as asked (--keyword-only)" in err
    code, out, _ = _run(capsys, "docs", "search", "lamp", "--keyword-only", "--json")
    notices = json.loads(out)["notices"]
    assert code == 0 and KEYWORD_ONLY_NOTICE not in notices
    assert any("as asked" in n for n in notices)


def test_unreadable_folders_are_found() -> None:
    with traversable_folder() as root:
        (root / "top" / "open").mkdir(parents=True)
        (root / "top" / "closed").mkdir()
        (root / "top" / "closed" / "secret.txt").write_text("hidden words")
        (root / "top" / ".hidden").mkdir(mode=0o000)
        os.chmod(root / "top" / "closed", 0o000)

        def scan() -> str:
            unreadable: list[Path] = []
            expand([root / "top"], unreadable)
            return json.dumps([str(p) for p in unreadable])

        assert json.loads(as_nobody(scan)) == [str(root / "top" / "closed")]


def test_docs_add_says_it_skipped_an_unreadable_subfolder() -> None:
    """Run as ``nobody`` (root reads any folder), with a home that ``nobody`` owns."""
    with traversable_folder() as root:
        home, docs = root / "home", root / "docs"
        home.mkdir()
        os.chown(home, NOBODY, NOBODY) if os.geteuid() == 0 else None
        (docs / "closed").mkdir(parents=True)
        (docs / "open.txt").write_text("the lamp is lit at dusk")
        (docs / "closed" / "secret.txt").write_text("the horn sounds twice")
        os.chmod(docs / "closed", 0o000)

        def add() -> str:
            os.environ["LANTERN_HOME"] = str(home)
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["docs", "add", str(docs), "--keyword-only"])
            return json.dumps([code, err.getvalue()])

        code, err = json.loads(as_nobody(add))
        assert code == 0, err
        assert f"skipped {docs / 'closed'}: no permission to read this folder" in err
