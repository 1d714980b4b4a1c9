"""Switching the default embedding model re-embeds the documents in the background
(DocsController.reembed_if_stale through the ingest worker, which reopens the model)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from app.knowledge.embed import Embedder, model_id_for
from app.knowledge.ingest import Ingestor
from app.models.registry import import_model, set_default
from app.paths import get_paths
from app.store.db import open_db
from tests.fixtures.minilm_gguf import minilm_gguf_path


def test_switching_the_embedder_re_embeds_in_the_background(
    qtbot: Any, ui_store: tuple[Any, Path], tmp_path: Path
) -> None:
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    setup = open_db(db_path)  # the test's own writes (the window's connection only reads)
    first = minilm_gguf_path()
    set_default(
        setup, import_model(setup, first, get_paths().models, copy=False)["name"], "embedding"
    )
    note = tmp_path / "lighthouse.md"
    note.write_text("# Lighthouse\n\nThe lamp is lit at dusk by the keeper.\n")
    with Embedder(first, n_threads=1) as embedder:
        Ingestor(setup, embedder).add([note], "lh")
    second = tmp_path / "minilm-copy.gguf"  # another model file: another model id
    shutil.copyfile(first, second)
    with second.open("ab") as fh:
        fh.write(b"\0" * 32)  # a different size, as a different model would have
    set_default(
        setup, import_model(setup, second, get_paths().models, copy=False)["name"], "embedding"
    )

    def embedded_by() -> set[str]:
        return {r[0] for r in setup.execute("SELECT embed_model FROM documents").fetchall()}

    assert embedded_by() == {model_id_for(first)}
    window = MainWindow(db, db_path)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.docs.last_report is not None, timeout=120_000)
        assert embedded_by() == {model_id_for(second)}
        assert window.docs.reembed_if_stale() is False  # nothing left to re-embed
    finally:
        window.shutdown()
        setup.close()
