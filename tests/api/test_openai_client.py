"""The official `openai` package against `lantern serve` (a real subprocess, SmolLM2)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import openai
import pytest
from openai import OpenAI

from tests.api.conftest import Served

pytestmark = pytest.mark.slow
MODEL = "SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def client(served: Served) -> OpenAI:
    return OpenAI(base_url=served.base_url, api_key="not-needed-on-loopback", max_retries=0)


def test_models_list_has_models_specialists_and_auto(client: OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "auto" in ids
    assert MODEL in ids
    assert "specialist:General" in ids


def test_one_model_by_id(client: OpenAI) -> None:
    for name in ("auto", MODEL, "specialist:General"):
        assert client.models.retrieve(name).id == name
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("no-such-model")
    assert "no-such-model" in err.value.message


def test_chat_not_streaming(client: OpenAI) -> None:
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12,
        temperature=0,
    )
    assert r.object == "chat.completion"
    text = r.choices[0].message.content
    assert text and text.strip()
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage is not None and 0 < r.usage.completion_tokens <= 12
    assert r.usage.prompt_tokens > 5
    # greedy with a seed: the same request gives the same answer
    again = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12,
        temperature=0,
    )
    assert again.choices[0].message.content == text


def test_chat_streaming_matches_usage(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="auto",
        messages=[
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Name another one."},
        ],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, extra = [], None, None
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
        extra = getattr(chunk, "lantern", None) or extra
    assert len(pieces) >= 2
    assert finish in ("stop", "length")
    assert extra is not None and extra["model"] == MODEL  # routed: who answered is said
    # The server's own count, request in to first text out, holds the engine's.
    assert extra["server"]["ttft_s"] >= extra["engine"]["ttft_s"] > 0


def test_stop_string_cuts_the_answer(client: OpenAI) -> None:
    base = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count: 1, 2, 3"}],
        max_tokens=24, temperature=0,
    ).choices[0].message.content  # fmt: skip
    assert base and len(base) > 4
    stop = base[2:5]
    cut = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count: 1, 2, 3"}],
        max_tokens=24, temperature=0, stop=[stop],
    )  # fmt: skip
    assert cut.choices[0].message.content == base[: base.index(stop)]
    assert cut.choices[0].finish_reason == "stop"


def test_embeddings(client: OpenAI) -> None:
    r = client.embeddings.create(
        model="any",
        input=["The cat sat on the mat.", "A cat was sitting on a rug.", "Quarterly tax law"],
    )
    vectors = np.array([d.embedding for d in r.data], dtype=np.float32)
    assert vectors.shape == (3, 384)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.2  # related sentences are closer
    assert r.usage.prompt_tokens > 10


def test_unknown_model_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.status_code == 404
    assert "no-such-model" in err.value.message


def test_bad_body_is_422_naming_the_field(client: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], temperature=7
        )
    assert "temperature" in err.value.message


def test_prompt_over_context_is_400_with_token_counts(client: OpenAI) -> None:
    long = "lantern " * 6000  # ~6,000 tokens; the model is loaded with 4,096
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": long}], max_tokens=8
        )
    body = err.value.body
    assert isinstance(body, dict) and body.get("code") == "context_length_exceeded"
    assert "4,096" in err.value.message and "tokens" in err.value.message


def test_streamed_prompt_over_context_is_a_plain_400(client: OpenAI) -> None:
    """Refused before the stream starts: a status the client raises on, not an event."""
    long = "lantern " * 6000
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": long}], max_tokens=8, stream=True
        )
    body = err.value.body
    assert isinstance(body, dict) and body.get("code") == "context_length_exceeded"


def test_exchange_not_saved_unless_asked(client: OpenAI, served: Served) -> None:
    from app.store.db import open_db

    def count() -> int:
        db = open_db(served.home / "data" / "lantern.db")
        try:
            return int(db.execute("select count(*) from conversations").fetchone()[0])
        finally:
            db.close()

    before = count()
    client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert count() == before
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "keep me"}], max_tokens=4,
        extra_body={"lantern": {"save": True}},
    )  # fmt: skip
    assert count() == before + 1
    assert r.model_extra and r.model_extra["lantern"]["conversation_id"]


def test_curl_parses_the_event_stream(served: Served) -> None:
    body = {"model": MODEL, "stream": True, "max_tokens": 6,
            "messages": [{"role": "user", "content": "Say hello"}]}  # fmt: skip
    out = subprocess.run(
        ["curl", "-sN", "-H", "Content-Type: application/json", "-d", json.dumps(body),
         served.base_url + "/chat/completions"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    events = [e for e in out.split("\n\n") if e.strip()]
    assert all(e.startswith("data: ") for e in events), out
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    # The role first, on its own (sent once the model took the prompt), then the text.
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text.strip()


def test_grounded_in_a_collection_returns_sources(client: OpenAI) -> None:
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the vault code of the test lab?"}],
        max_tokens=16, temperature=0,
        extra_body={"lantern": {"collection": "notes"}},
    )  # fmt: skip
    extra = r.model_extra["lantern"] if r.model_extra else {}
    sources = extra.get("sources")
    assert sources, extra
    assert any("notes.txt" in json.dumps(s) for s in sources)


def test_unknown_collection_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}],
            extra_body={"lantern": {"collection": "no-such-docs"}},
        )  # fmt: skip
