"""LoRA adapters applied to the real SmolLM2 model without reloading it (app/engine/lora)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
from app.errors import AdapterError
from tests.specialists.lora_files import write_adapter

GREEDY = SamplingOptions(temperature=0.0, max_tokens=16, repeat_penalty=1.0)
QUESTION = [ChatMessage("user", "Name three colours.")]


@pytest.fixture(scope="module")
def session(smollm2_path: Path) -> Iterator[ChatSession]:
    made = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=1))
    yield made
    made.close()


def answer(session: ChatSession) -> str:
    events = list(session.reply(QUESTION, GREEDY))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    return stats.text


def test_adapter_changes_greedy_output_and_removal_restores_it(
    session: ChatSession, tmp_path: Path
) -> None:
    adapter = write_adapter(tmp_path / "colours.gguf")
    base = answer(session)
    assert session.set_adapters([(adapter, 1.0)]) is True
    assert session.cached_tokens == 0  # the KV cache came from other weights
    adapted = answer(session)
    assert adapted != base
    assert session.set_adapters([(adapter, 1.0)]) is False  # same set: nothing to do
    assert session.set_adapters([]) is True
    assert answer(session) == base  # the base model was never touched


def test_wrong_architecture_is_refused(session: ChatSession, tmp_path: Path) -> None:
    adapter = write_adapter(tmp_path / "gemma.gguf", arch="gemma3", layers=2)
    with pytest.raises(AdapterError, match=r"gemma3 architecture.*model is llama"):
        session.set_adapters([(adapter, 1.0)])


def test_wrong_shapes_are_refused(session: ChatSession, tmp_path: Path) -> None:
    adapter = write_adapter(tmp_path / "shapes.gguf", n_in=320, layers=2)
    with pytest.raises(AdapterError, match="does not fit this model"):
        session.set_adapters([(adapter, 1.0)])
    assert answer(session)  # the session still answers


def test_a_chat_model_is_not_an_adapter(session: ChatSession, smollm2_path: Path) -> None:
    with pytest.raises(AdapterError, match="not a LoRA adapter"):
        session.set_adapters([(smollm2_path, 1.0)])


def test_imported_adapter_is_registered_and_attached_to_a_specialist(
    tmp_path: Path, lantern_home: Path
) -> None:
    from app.chat.specialists import adapter_specs
    from app.models.registry import register_file
    from app.store import specialists as store
    from app.store.db import open_db

    db = open_db(lantern_home / "lantern.db")
    try:
        row = register_file(db, write_adapter(tmp_path / "tone.gguf", layers=2), name="tone")
        assert row["kind"] == "adapter" and row["architecture"] == "llama"
        spec = store.save_specialist(db, "Writing", adapters=[{"name": "tone", "scale": 0.5}])
        (found,) = adapter_specs(db, spec)
        assert found.name == "tone" and found.scale == 0.5 and found.path == Path(row["path"])
    finally:
        db.close()
