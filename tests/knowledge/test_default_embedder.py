"""app/knowledge/default_embedder.py: the setup step that installs all-MiniLM-L6-v2 (the
real package's weights, converted by the app's own converter) as the default embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from app.cli import main
from app.knowledge.default_embedder import DEFAULT_EMBEDDER_NAME, ensure_default_embedder
from app.knowledge.embed import Embedder
from app.knowledge.embedding_model import embedding_model_path, embedding_status
from app.models.registry import remove_model
from app.paths import get_paths


def test_setup_installs_and_registers_the_default_embedder(
    db: sqlite_utils.Database, lantern_home: Path
) -> None:
    models = get_paths().ensure().models
    assert embedding_status(db)["name"] is None
    assert "keyword-only" in embedding_status(db)["message"]

    row = ensure_default_embedder(db, models)
    assert row is not None and row["name"] == DEFAULT_EMBEDDER_NAME
    assert row["kind"] == "embedding" and row["is_default_embedding"]
    path = embedding_model_path(db)
    assert path is not None and path.parent == models and path.stat().st_size > 40_000_000
    assert embedding_status(db)["name"] == DEFAULT_EMBEDDER_NAME

    with Embedder(path, n_threads=1) as embedder:  # the converted file really embeds
        a, b, c = embedder.embed(["how do I turn on the lamp", "switching the light on", "tax"])
    assert float(np.dot(a, b)) > float(np.dot(a, c))

    assert ensure_default_embedder(db, models) is None  # idempotent
    remove_model(db, DEFAULT_EMBEDDER_NAME)  # a user who removed it on purpose keeps it off
    assert ensure_default_embedder(db, models) is None
    assert embedding_model_path(db) is None
    assert ensure_default_embedder(db, models, force=True) is not None  # setup run again


def test_doctor_says_which_embedding_model_is_in_use(
    lantern_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["embedding_model"]["name"] is None
    assert "keyword-only" in report["embedding_model"]["message"]

    from app.knowledge.default_embedder import main as setup_main

    assert setup_main() == 0
    capsys.readouterr()
    main(["doctor"])
    out = capsys.readouterr().out
    assert f"Embedding   {DEFAULT_EMBEDDER_NAME} (meaning-based search)" in out


def test_the_bundled_embedder_is_registered_in_place_on_the_first_run(
    db: sqlite_utils.Database, lantern_home: Path, tmp_path: Path, minilm_path: Path
) -> None:
    from app.knowledge.convert_embedder import GGUF_NAME
    from app.knowledge.default_embedder import (
        BUNDLED_FILE,
        BUNDLED_FOLDER,
        bundled_gguf,
        ensure_bundled_embedder,
    )

    assert BUNDLED_FILE == GGUF_NAME
    assert bundled_gguf() is None  # a source checkout carries none: nothing is registered
    assert ensure_bundled_embedder(db, get_paths().ensure().models) is None
    assert embedding_model_path(db) is None

    folder = tmp_path / "bundle" / BUNDLED_FOLDER
    folder.mkdir(parents=True)
    shutil.copyfile(minilm_path, folder / BUNDLED_FILE)
    bundled = bundled_gguf(tmp_path / "bundle")
    assert bundled == folder / BUNDLED_FILE
    models = get_paths().models
    row = ensure_bundled_embedder(db, models, bundled)
    assert row is not None and row["in_place"] and row["is_default_embedding"]
    assert embedding_model_path(db) == bundled.resolve()  # used where it lies: no copy
    assert not any(p.suffix == ".gguf" for p in models.iterdir())
    assert embedding_status(db)["message"] == f"{DEFAULT_EMBEDDER_NAME} (meaning-based search)"
    assert ensure_bundled_embedder(db, models, bundled) is None  # once

    moved = tmp_path / "bundle2" / BUNDLED_FOLDER  # an update installed the bundle elsewhere
    moved.mkdir(parents=True)
    bundled.rename(moved / BUNDLED_FILE)
    assert ensure_bundled_embedder(db, models, moved / BUNDLED_FILE) is not None
    assert embedding_model_path(db) == (moved / BUNDLED_FILE).resolve()

    remove_model(db, DEFAULT_EMBEDDER_NAME)  # removed on purpose: it does not come back
    assert ensure_bundled_embedder(db, models, moved / BUNDLED_FILE) is None
    assert embedding_model_path(db) is None
