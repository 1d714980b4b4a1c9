"""app/chat/attribution.py: each answer sentence attributed to the passage that supports
it (real MiniLM embeddings + word overlap), unsupported ones marked; stored with the answer
and returned by the service and `lantern ask --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.chat.attribution import NOT_FOUND, attribute, sentence_citations, split_sentences
from app.knowledge.embed import Embedder
from tests.fixtures.minilm_gguf import minilm_gguf_path

SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "attribution_set.json"
LIGHTHOUSE = (
    "# Harbor Lighthouse\n\nThe Harbor Lighthouse was built in 1871 by the engineer Mara "
    "Quill. It stands 42 meters tall and its lamp can be seen 30 kilometers out to sea.\n"
)


def test_split_sentences_drops_markers_and_fragments() -> None:
    text = "It was built in 1871 [1]. It is 42 m tall [1, 2]!\n- ok\nThe lamp is bright."
    assert split_sentences(text) == [
        "It was built in 1871.",
        "It is 42 m tall!",
        "The lamp is bright.",
    ]


def test_wrong_year_is_not_supported_even_without_markers(embedder: Embedder) -> None:
    passages = [
        "The Harbor Lighthouse was built in 1871 by the engineer Mara Quill.",
        "In fog the keeper sounds the horn twice every minute.",
    ]
    answer = (
        "The lighthouse was built in 1891 by Mara Quill. In fog the horn sounds twice a minute."
    )
    wrong, right = attribute(answer, passages, embedder)
    assert wrong.source is None  # the year contradicts the passage
    assert right.source == 2 and right.score >= 0.45
    rows = sentence_citations([wrong.as_dict(), right.as_dict()], [{"file": "a.md", "page": 1}] * 2)
    assert rows[0]["note"] == NOT_FOUND and rows[1]["file"] == "a.md"


def test_precision_on_the_labelled_set(embedder: Embedder) -> None:
    """Every sentence the attribution cites must cite the right passage (precision), and
    most supported sentences must be cited (recall); figures in bench/results/docs.json."""
    cited = correct = supported = found = 0
    for case in json.loads(SET.read_text())["cases"]:
        answer = " ".join(s for s, _ in case["answer"])
        got = attribute(answer, case["passages"], embedder)
        assert [c.sentence for c in got] == [s for s, _ in case["answer"]]
        for c, (_, want) in zip(got, case["answer"], strict=True):
            if c.source is not None:
                cited += 1
                correct += c.source == want
            if want is not None:
                supported += 1
                found += c.source == want
    assert correct / cited >= 0.9, (correct, cited)
    assert found / supported >= 0.8, (found, supported)


def test_words_alone_without_an_embedding_model() -> None:
    [c] = attribute("The keeper sounds the horn in fog.", ["In fog the keeper sounds the horn."])
    assert c.source == 1


def test_service_stores_citations_and_ask_json_returns_them(
    lantern_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real grounded turn with SmolLM2 (which writes no [n]): the service yields
    CitationsReady after the answer, stores it, and `ask --json` returns `citations`."""
    from app.chat.service import ConversationService
    from app.chat.types import CitationsReady, TurnRequest, TurnResult
    from app.cli import main
    from app.knowledge.ingest import Ingestor
    from app.models.registry import ensure_starter, import_model, set_default
    from app.paths import get_paths
    from app.store.citations import answer_citations
    from app.store.db import open_db
    from app.store.settings import set_setting

    db = open_db(get_paths().ensure().db)
    ensure_starter(db)
    set_setting(db, "chat.temperature", 0.0)
    set_setting(db, "chat.threads", 1)
    row = import_model(db, minilm_gguf_path(), get_paths().models, copy=False)
    set_default(db, row["name"], kind="embedding")
    note = tmp_path / "lighthouse.md"
    note.write_text(LIGHTHOUSE)
    Ingestor(db, None).add([note], "lh")
    service = ConversationService(db)
    try:
        events = list(
            service.run(
                TurnRequest(
                    "send", None, "When was the lighthouse built?", collection="lh", max_tokens=48
                )
            )
        )
    finally:
        service.close()
    [ready] = [e for e in events if isinstance(e, CitationsReady)]
    result = events[-1]
    assert isinstance(result, TurnResult) and events.index(ready) == len(events) - 2
    assert ready.citations and ready.citations == answer_citations(db, result.message["id"])
    assert {c["sentence"] for c in ready.citations} <= set(
        split_sentences(result.message["content"])
    )
    db.conn.close()

    code = main(
        ["ask", "--docs", "lh", "--json", "--max-tokens", "48", "Who built the lighthouse?"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["citations"], payload
    for c in payload["citations"]:
        assert set(c) == {"sentence", "source", "score"}
        assert c["source"] is None or 1 <= c["source"] <= len(payload["sources"])
