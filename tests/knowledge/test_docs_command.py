"""app/commands/docs.py: `lantern docs add|list|search|remove|rescan|collections`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lamps.md").write_text("# Lamps\n\nThe lamp is lit at dusk by the keeper.\n")
    (docs / "fog.txt").write_text("In fog the horn sounds twice every minute.\n")
    (docs / "empty.txt").touch()
    return docs


def test_add_list_search_remove_keyword_only(
    lantern_home: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "docs", "add", str(folder), "--collection", "lh", "--keyword-only"
    )
    assert code == 1  # one file failed; the others were indexed
    assert f"failed     {folder / 'empty.txt'}: the file is empty" in err
    assert "indexed" in out and "lamps.md" in out and "fog.txt" in out
    assert "keyword-only" in err

    code, out, _ = _run(capsys, "docs", "list", "--collection", "lh", "--json")
    rows = json.loads(out)
    assert code == 0 and sorted(Path(r["path"]).name for r in rows) == ["fog.txt", "lamps.md"]
    assert all(r["embed_model"] is None and r["collection"] == "lh" for r in rows)

    code, out, _ = _run(capsys, "docs", "search", "horn in fog", "--collection", "lh", "--json")
    result = json.loads(out)
    assert code == 0 and result["mode"] == "keyword"
    top = result["results"][0]
    assert Path(top["file"]).name == "fog.txt" and top["page"] == 1
    assert "horn sounds" in top["text"] and isinstance(top["score"], float)

    code, out, _ = _run(capsys, "docs", "remove", str(folder / "fog.txt"))
    assert code == 0 and "removed 1" in out
    code, _, err = _run(capsys, "docs", "remove", str(folder / "fog.txt"))
    assert code == 1 and "is not indexed" in err

    code, out, _ = _run(capsys, "docs", "collections", "--json")
    assert [(c["name"], c["documents"]) for c in json.loads(out)] == [("lh", 1)]


def test_unknown_collection_is_one_clear_line(
    lantern_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "docs", "search", "x", "--collection", "nope")
    assert code == 1 and "no document collection named 'nope'" in err and "Traceback" not in err


@pytest.mark.slow
def test_add_with_embedding_model_then_rescan(
    lantern_home: Path, folder: Path, minilm_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "empty.txt").unlink()
    model = ["--embedding-model", str(minilm_path)]
    code, out, err = _run(capsys, "docs", "add", str(folder), *model)
    assert code == 0 and err == ""
    code, out, _ = _run(capsys, "docs", "search", "when is the light switched on", *model, "--json")
    result = json.loads(out)
    assert result["mode"] == "hybrid" and result["notices"] == []
    assert Path(result["results"][0]["file"]).name == "lamps.md"
    (folder / "fog.txt").unlink()
    code, out, _ = _run(capsys, "docs", "rescan", *model, "--json")
    statuses = {Path(r["file"]).name: r["status"] for r in json.loads(out)["results"]}
    assert code == 0 and statuses == {"fog.txt": "removed", "lamps.md": "unchanged"}


@pytest.mark.slow
def test_registered_embedding_model_is_used_by_default(
    lantern_home: Path, folder: Path, minilm_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "models", "import", str(minilm_path), "--in-place")
    assert code == 0, err
    (folder / "empty.txt").unlink()
    code, _, err = _run(capsys, "docs", "add", str(folder), "--json")
    assert code == 0 and "keyword-only" not in err
    code, out, _ = _run(capsys, "docs", "list", "--json")
    assert {r["embed_model"] for r in json.loads(out)} == {
        f"{minilm_path.name}:{minilm_path.stat().st_size}"
    }
    code, out, _ = _run(capsys, "docs", "search", "when is the light switched on", "--json")
    assert json.loads(out)["mode"] == "hybrid"


def test_add_remembers_a_failed_file_for_the_documents_view(
    lantern_home: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.knowledge.collections import collection_files
    from app.paths import get_paths
    from app.store.db import open_db

    code, _, _ = _run(capsys, "docs", "add", str(folder), "--collection", "lh", "--keyword-only")
    assert code == 1
    db = open_db(get_paths().db)
    try:
        states = {Path(f.path).name: f for f in collection_files(db, "lh")}
    finally:
        db.close()
    assert states["empty.txt"].state == "problem"
    assert "the file is empty" in str(states["empty.txt"].message)
    assert states["lamps.md"].state != "problem"
