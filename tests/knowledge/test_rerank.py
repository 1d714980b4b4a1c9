"""app/knowledge/rerank.py: an optional cross-encoder reorders what retrieval found.

The reranker here is the FAKE one of ``tests.fixtures.fake_reranker`` (MiniLM's body with
an untrained head, written as a rank-pooling GGUF: no real reranker can be had offline).
llama.cpp runs it as it runs bge-reranker or jina-reranker, so these tests check the
plumbing (the file is seen as a reranker, pairs are built as llama.cpp's server builds
them, search and grounding use its scores) and never the quality of its order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlite_utils

from app.chat.service import ConversationService
from app.chat.types import TurnNotice, TurnRequest
from app.engine.gguf_info import inspect_gguf
from app.errors import ModelFileError
from app.knowledge.embed import Embedder
from app.knowledge.ingest import Ingestor
from app.knowledge.rerank import RERANK_CANDIDATES, Reranker, reranker_path, reranker_status
from app.knowledge.retrieve import search
from app.models.registry import register_file
from app.store.settings import set_setting
from tests.models.conftest import hub, hub_server  # noqa: F401 - fixtures

TOPICS = [
    ("lamps", "The lamp is lit at dusk and put out at dawn by the keeper."),
    ("fog", "In thick fog the horn sounds twice every minute."),
    ("tides", "High water comes roughly every twelve hours and twenty five minutes."),
    ("stores", "The keeper keeps biscuits, tea and tinned beef in the store room."),
    ("paint", "The tower is painted with red and white bands every third summer."),
    ("birds", "Gulls nest on the ledge below the gallery from April to July."),
    ("storms", "In a storm the keeper closes the shutters and logs the wind speed."),
    ("boats", "A supply boat calls on Tuesdays when the sea allows a landing."),
    ("lens", "The lens is polished each morning and covered against the sun."),
    ("radio", "The radio is checked at noon with the station on the mainland."),
    ("logbook", "Each night the keeper writes the weather and the lamp hours in the log."),
    ("oil", "Paraffin for the lamp is stored in the oil house away from the tower."),
]


@pytest.fixture(scope="session")
def fake_reranker() -> Path:
    from tests.fixtures.fake_reranker import fake_reranker_path

    return fake_reranker_path()


@pytest.fixture(scope="module")
def reranker(fake_reranker: Path) -> Iterator[Reranker]:
    model = Reranker(fake_reranker, n_threads=2)
    yield model
    model.close()


@pytest.fixture
def indexed(db: sqlite_utils.Database, tmp_path: Path, embedder: Embedder) -> sqlite_utils.Database:
    for name, text in TOPICS:
        (tmp_path / f"{name}.md").write_text(f"# {name.title()}\n\n{text}\n")
    Ingestor(db, embedder).add([tmp_path], "keeper")
    return db


def test_a_rank_pooling_file_is_a_reranker_not_an_embedder(
    db: sqlite_utils.Database, fake_reranker: Path, minilm_path: Path
) -> None:
    """Registered, it never becomes the embedding model (it would embed nonsense)."""
    assert inspect_gguf(fake_reranker).kind == "reranker"
    assert inspect_gguf(minilm_path).kind == "embedding"
    row = register_file(db, fake_reranker)
    assert row["kind"] == "reranker"
    assert reranker_path(db) == fake_reranker
    from app.knowledge.embedding_model import embedding_model_path

    assert embedding_model_path(db) != fake_reranker


def test_pairs_are_built_as_llama_cpp_builds_them(reranker: Reranker) -> None:
    """[CLS] question [SEP] [SEP] passage [SEP] for this BERT vocabulary (BOS, question,
    EOS, SEP, passage, EOS: llama.cpp's format_rerank), the passage cut to fit."""
    question = reranker._encoder.tokenize("keep some rows", add_special=False)
    passage = reranker._encoder.tokenize("subset a data frame", add_special=False)
    assert reranker.pair_tokens(question, "subset a data frame") == [
        101, *question, 102, 102, *passage, 102,
    ]  # fmt: skip
    long = reranker.pair_tokens(question, "word " * 5000)
    assert len(long) == reranker.max_tokens and long[-1] == 102


def test_scores_one_per_passage_whatever_the_batch(reranker: Reranker) -> None:
    passages = [text for _, text in TOPICS[:5]]
    together = reranker.score("when is the lamp lit", passages)
    assert together.shape == (5,) and np.isfinite(together).all()
    assert len(set(np.round(together, 5))) == 5  # the head reads each pair
    alone = [reranker.score("when is the lamp lit", [p])[0] for p in passages]
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    assert reranker.score("anything", []).shape == (0,)


def test_an_embedding_model_is_refused_as_a_reranker(minilm_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not a reranker"):
        Reranker(minilm_path, n_threads=1)


def test_search_orders_the_first_candidates_by_the_reranker(
    indexed: sqlite_utils.Database, embedder: Embedder, reranker: Reranker
) -> None:
    question = "what does the keeper do at night"
    fused = search(indexed, question, embedder=embedder, k=RERANK_CANDIDATES).hits
    assert len(fused) == RERANK_CANDIDATES
    scores = reranker.score(question, [h.text for h in fused])
    expected = [fused[i].chunk_id for i in np.argsort(-scores, kind="stable")][:4]
    result = search(indexed, question, embedder=embedder, k=4, reranker=reranker)
    assert [h.chunk_id for h in result.hits] == expected
    best = sorted((float(s) for s in scores), reverse=True)[:4]
    assert [h.score for h in result.hits] == [round(s, 6) for s in best]
    # the fake head's order is not fusion's: without the reranker this would fail
    assert expected != [h.chunk_id for h in fused[:4]]


def test_keyword_only_search_is_reranked_too(
    indexed: sqlite_utils.Database, reranker: Reranker
) -> None:
    plain = search(indexed, "keeper lamp", mode="keyword", k=10).hits
    ranked = search(indexed, "keeper lamp", mode="keyword", k=10, reranker=reranker).hits
    assert {h.chunk_id for h in ranked} == {h.chunk_id for h in plain}
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)


def test_the_service_keeps_the_reranker_while_the_setting_is_on(
    db: sqlite_utils.Database, fake_reranker: Path
) -> None:
    from app.chat.grounding import KeptEmbedder

    kept = KeptEmbedder(db)
    try:
        assert kept.reranker() is None  # none installed
        assert reranker_status(db)["name"] is None
        register_file(db, fake_reranker)
        first = kept.reranker()
        assert isinstance(first, Reranker) and kept.reranker() is first  # kept open
        assert "reorders search results" in reranker_status(db)["message"]
        set_setting(db, "docs.rerank", False)
        assert kept.reranker() is None
        assert "turned off" in reranker_status(db)["message"]
    finally:
        kept.close()


def test_docs_search_cli_reranks_and_can_be_told_not_to(
    lantern_home: Path, tmp_path: Path, fake_reranker: Path, minilm_path: Path
) -> None:
    from tests.cli.conftest import run_cli

    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in TOPICS:
        (folder / f"{name}.md").write_text(f"# {name.title()}\n\n{text}\n")
    model = ["--embedding-model", str(minilm_path)]
    assert run_cli(lantern_home, "docs", "add", str(folder), *model).returncode == 0
    query = ["docs", "search", "what does the keeper do at night", "--json", *model]
    plain = run_cli(lantern_home, *query, "--no-rerank")
    ranked = run_cli(lantern_home, *query, "--reranker", str(fake_reranker))
    assert plain.returncode == 0 and ranked.returncode == 0, plain.stderr + ranked.stderr
    plain_hits = json.loads(plain.stdout)["results"]
    ranked_hits = json.loads(ranked.stdout)["results"]
    scores = [h["score"] for h in ranked_hits]
    assert scores == sorted(scores, reverse=True)
    assert [h["text"] for h in ranked_hits] != [h["text"] for h in plain_hits]
    missing = run_cli(lantern_home, *query, "--reranker", str(tmp_path / "nope.gguf"))
    assert missing.returncode != 0 and "reranker file" in missing.stderr


def test_a_grounded_turn_cites_the_reranked_passages(
    service: ConversationService, tmp_path: Path, minilm_path: Path, fake_reranker: Path
) -> None:
    """A document too long to paste whole: the turn's sources are the reranker's first
    passages, with its scores; with ``docs.rerank`` off they are fusion's."""
    from app.knowledge.ingest import Ingestor
    from app.models.registry import set_default
    from app.store.conversations import create_conversation, update_settings
    from tests.chat.conftest import run

    row = register_file(service.db, minilm_path)
    set_default(service.db, row["name"], kind="embedding")
    register_file(service.db, fake_reranker)
    (tmp_path / "keeper.md").write_text(
        "\n\n".join(f"## {name}\n\n" + f"{text} " * 30 for name, text in TOPICS)
    )
    cid = create_conversation(service.db)["id"]
    update_settings(service.db, cid, context_length=1024, max_tokens=4)
    Ingestor(service.db, None).add([tmp_path / "keeper.md"], conversation_id=cid)
    question = "What does the keeper do at night?"
    result, _ = run(service, TurnRequest("send", cid, question))
    assert result.sources
    with Reranker(fake_reranker, n_threads=1) as own:
        expected = own.score(question, [s["text"] for s in result.sources])
    assert [s["score"] for s in result.sources] == pytest.approx(expected.tolist(), abs=1e-4)
    assert expected.tolist() == sorted(expected.tolist(), reverse=True)
    set_setting(service.db, "docs.rerank", False)
    plain, _ = run(service, TurnRequest("send", cid, question))
    assert [s["score"] for s in plain.sources] != [s["score"] for s in result.sources]


def test_a_closed_reranker_says_so_instead_of_crashing(fake_reranker: Path) -> None:
    model = Reranker(fake_reranker, n_threads=1)
    model.close()
    with pytest.raises(RuntimeError, match="closed"):
        model.score("question", ["passage"])


def test_a_damaged_reranker_is_reported_and_search_goes_on(
    service: ConversationService, tmp_path: Path, fake_reranker: Path, lantern_home: Path
) -> None:
    """The installed reranker's file was damaged after it was added: the grounded turn
    still answers from its sources and says why they were not reranked; so does `docs
    search`."""
    import shutil

    from app.knowledge.ingest import Ingestor
    from app.store.conversations import create_conversation, update_settings
    from tests.chat.conftest import run
    from tests.cli.conftest import run_cli

    copy = tmp_path / "reranker.gguf"
    shutil.copyfile(fake_reranker, copy)
    register_file(service.db, copy)
    with copy.open("r+b") as f:
        f.truncate(copy.stat().st_size // 2)
    (tmp_path / "keeper.md").write_text(
        "\n\n".join(f"## {name}\n\n" + f"{text} " * 30 for name, text in TOPICS)
    )
    cid = create_conversation(service.db)["id"]
    update_settings(service.db, cid, context_length=1024, max_tokens=4)
    Ingestor(service.db, None).add([tmp_path / "keeper.md"], conversation_id=cid)
    result, events = run(service, TurnRequest("send", cid, "What does the keeper do at night?"))
    assert result.sources
    said = " ".join(e.message for e in events if isinstance(e, TurnNotice))
    assert "reranker.gguf could not be loaded" in said and "not reranked" in said
    found = run_cli(lantern_home, "docs", "search", "keeper night", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["results"]
    assert "could not be loaded" in found.stderr


def test_the_catalogues_reranker_downloads_as_a_reranker(
    hub: Any,  # noqa: F811 - the fixture imported above
    db: sqlite_utils.Database,
    fake_reranker: Path,
) -> None:
    """`lantern models download` of the catalogue's jina reranker from the local hub (the
    real hub protocol; the file served is the FAKE reranker, as no real one is here): it is
    verified and registered as a reranker, and search then uses it."""
    from app.cli import main
    from app.models.catalogue import find
    from tests.fixtures.hub_server import HubFile, HubRepo

    entry = find("jina-reranker-v1-tiny-en")
    assert entry is not None and entry.kind == "reranker"
    repo = HubRepo(entry.repo, tags=["gguf", "text-classification"])
    repo.add(HubFile(entry.file, source=fake_reranker))
    hub.add_repo(repo)
    try:
        assert main(["models", "download", entry.repo]) == 0
    finally:
        del hub.repos[entry.repo]  # the hub is shared by the session's tests
    status = reranker_status(db)
    assert status["ok"] and "reorders search results" in status["message"]
    path = reranker_path(db)
    assert path is not None and path.name == entry.file
