"""The conversation service with the real SmolLM2: branches, grounding, alternation, stop."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.chat.service import ConversationService
from app.chat.types import ModelReady, SourcesReady, TurnNotice, TurnRequest, TurnStarted
from app.errors import ContextOverflowError, LanternError, NotFoundError
from app.store.conversations import update_settings
from app.store.messages import active_path, children, get_message, siblings
from tests.chat.conftest import run

pytestmark = pytest.mark.slow


def test_send_regenerate_edit_and_continue_make_branches_and_delete_nothing(
    service: ConversationService,
) -> None:
    first, events = run(service, TurnRequest("send", text="Name a colour.", max_tokens=8))
    assert isinstance(events[0], TurnStarted) or any(isinstance(e, ModelReady) for e in events)
    cid = first.conversation_id
    second, _ = run(service, TurnRequest("send", cid, "Name a fruit.", max_tokens=8))
    question_id = second.message["parent_id"]

    again, _ = run(service, TurnRequest("regenerate", target_id=second.message["id"]))
    assert again.message["parent_id"] == question_id  # a sibling answer
    assert [m["id"] for m in siblings(service.db, again.message["id"])] == [
        second.message["id"], again.message["id"],
    ]  # fmt: skip

    edited, _ = run(
        service, TurnRequest("edit", target_id=question_id, text="Name a tree.", max_tokens=8)
    )
    edit_question = get_message(service.db, edited.message["parent_id"])
    assert edit_question["content"] == "Name a tree."
    assert edit_question["parent_id"] == get_message(service.db, question_id)["parent_id"]
    assert [m["content"] for m in active_path(service.db, cid)][-2] == "Name a tree."
    assert len(children(service.db, question_id)) == 2  # the old branch is still there

    path = service.switch_branch(question_id)  # back to the first version of the question
    assert [m["id"] for m in path][-2:] == [question_id, again.message["id"]]
    history = service.messages_for(question_id).messages
    assert history[-1].content == "Name a fruit."
    service.switch_branch(edited.message["id"])

    cut, _ = run(service, TurnRequest("send", cid, "Tell a long story.", max_tokens=6))
    assert cut.message["stop_reason"] == "length" and cut.note and "cut off" in cut.note
    more, _ = run(service, TurnRequest("continue", target_id=cut.message["id"], max_tokens=6))
    assert more.message["id"] == cut.message["id"]  # continued in place
    assert more.message["content"].startswith(cut.message["content"])
    assert len(more.message["content"]) > len(cut.message["content"])
    assert more.stats is not None and more.stats.evaluated_prompt_tokens <= 2  # KV reused


def test_a_follow_up_evaluates_only_its_new_tokens(service: ConversationService) -> None:
    first, _ = run(service, TurnRequest("send", text="Hi there.", max_tokens=12))
    cid = first.conversation_id
    second, _ = run(service, TurnRequest("send", cid, "What can you do?", max_tokens=12))
    assert second.stats is not None
    assert second.stats.prompt_tokens > 3 * second.stats.evaluated_prompt_tokens


def test_a_grounded_follow_up_reuses_the_prefix_and_cites_the_document(
    service: ConversationService, tmp_path: Path
) -> None:
    from app.knowledge.ingest import Ingestor
    from app.store.conversations import create_conversation

    (tmp_path / "keeper.md").write_text(
        "# Keeper's log\n\nThe lighthouse on Skerry Rock was built in 1852.\n\n"
        "Its lamp is lit every evening at dusk.\n"
    )
    cid = create_conversation(service.db)["id"]
    Ingestor(service.db, None).add([tmp_path / "keeper.md"], conversation_id=cid)
    question = "When was the lighthouse on Skerry Rock built?"
    first, events = run(service, TurnRequest("send", cid, question, max_tokens=40))
    assert "1852" in first.message["content"]  # the document's fact
    assert first.sources is not None and Path(first.sources[0]["file"]).name == "keeper.md"
    assert first.sources[0]["page"] == 1
    assert any(isinstance(e, SourcesReady) for e in events)
    stored = get_message(service.db, first.message["parent_id"])
    assert stored["content"] == question and "1852" in stored["context"]

    turns = []
    for follow_up in ("When is its lamp lit?", "Who wrote the log?", "Thank you."):
        result, _ = run(service, TurnRequest("send", cid, follow_up, max_tokens=16))
        assert result.stats is not None and result.sources is not None
        turns.append(result.stats)
    for stats in turns:  # the history (with the first turn's sources) came from the cache
        assert stats.evaluated_prompt_tokens < stats.prompt_tokens / 3, stats
    assert not service.embedder.is_open  # whole documents: no embedding model was needed


def _retemplated(
    service: ConversationService, smollm2_path: Path, tmp_path: Path, name: str, template: str
) -> None:
    """Register a copy of SmolLM2 with another chat template as model ``name``."""
    from app.models.registry import import_model
    from app.paths import get_paths

    copy = tmp_path / f"{name}.gguf"
    subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(smollm2_path), str(copy),
         "--chat-template", template, "--force"],
        check=True, capture_output=True,
    )  # fmt: skip
    import_model(service.db, copy, get_paths().models, copy=False, name=name)


def test_stop_while_a_slow_template_formats_the_prompt_ends_the_answer_as_stopped(
    service: ConversationService, smollm2_path: Path, tmp_path: Path
) -> None:
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    _retemplated(service, smollm2_path, tmp_path, "slow", slow)
    turn = service.run(TurnRequest("send", text="Hi.", model="slow", max_tokens=8))
    for event in turn:
        if isinstance(event, TurnStarted):
            threading.Timer(0.1, service.stop).start()  # while the template runs
    result = event
    assert result.status == "stopped" and result.note == "stopped before it began"


def test_an_empty_answer_does_not_break_a_template_that_needs_alternating_roles(
    service: ConversationService, smollm2_path: Path, tmp_path: Path
) -> None:
    """A copy of SmolLM2 whose template refuses two user turns in a row (as Gemma 3's and
    Mistral v0.3's do)."""
    template = (
        "{% for m in messages %}{% if loop.index0 > 0 and m['role'] == messages[loop.index0 - 1]"
        "['role'] %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    _retemplated(service, smollm2_path, tmp_path, "strict", template)
    first, _ = run(service, TurnRequest("send", text="Hi.", model="strict", max_tokens=8))
    cid = first.conversation_id
    update_settings(service.db, cid, context_length=256)
    with pytest.raises(ContextOverflowError):  # too long: an empty, failed answer is saved
        run(service, TurnRequest("send", cid, "word " * 400))
    failed = active_path(service.db, cid)[-1]
    assert (failed["role"], failed["status"], failed["content"]) == ("assistant", "error", "")
    after, events = run(service, TurnRequest("send", cid, "Hello again.", max_tokens=8))
    assert after.status == "complete" and after.message["content"]
    notices = [e.message for e in events if isinstance(e, TurnNotice)]
    assert any("left out" in n for n in notices)


def test_stop_during_prompt_evaluation_keeps_an_empty_stopped_answer(
    service: ConversationService,
) -> None:
    long_question = "Summarize this: " + "the sea is calm and grey today. " * 150
    turn = service.run(TurnRequest("send", text=long_question, max_tokens=50))
    for event in turn:
        if isinstance(event, TurnStarted):
            threading.Timer(0.05, service.stop).start()  # while the prompt is evaluated
    result = event
    assert result.status == "stopped" and result.message["content"] == ""
    assert result.note == "stopped before it began"
    assert result.stats is not None and result.stats.completion_tokens == 0
    again, _ = run(service, TurnRequest("send", result.conversation_id, "Hi.", max_tokens=4))
    assert again.status == "complete"


def test_requests_that_cannot_be_carried_out_say_why_and_save_nothing(
    service: ConversationService,
) -> None:
    first, _ = run(service, TurnRequest("send", text="Hi.", max_tokens=64))
    assert first.message["stop_reason"] == "eos"  # complete: nothing to continue
    cid = first.conversation_id
    before = len(active_path(service.db, cid))
    with pytest.raises(LanternError, match="empty"):
        run(service, TurnRequest("send", cid, "   "))
    with pytest.raises(LanternError, match="Only a user message"):
        run(service, TurnRequest("edit", target_id=first.message["id"], text="x"))
    with pytest.raises(LanternError, match="stopped or cut off"):
        run(service, TurnRequest("continue", target_id=first.message["id"]))
    with pytest.raises(NotFoundError):
        run(service, TurnRequest("send", 0, "Hi."))
    assert len(active_path(service.db, cid)) == before


def test_changing_the_context_length_reloads_the_model(service: ConversationService) -> None:
    first, _ = run(service, TurnRequest("send", text="Hi.", max_tokens=4))
    assert service.pool.session is not None and service.pool.session.n_ctx == 2048
    update_settings(service.db, first.conversation_id, context_length=1024)
    _, events = run(service, TurnRequest("send", first.conversation_id, "Bye.", max_tokens=4))
    assert any(isinstance(e, ModelReady) for e in events)
    assert service.pool.session.n_ctx == 1024


def test_retrieved_sources_of_earlier_questions_give_way_without_losing_the_cache(
    service: ConversationService, tmp_path: Path
) -> None:
    """A document too long to paste whole: each question gets its own retrieved sources.
    Once earlier questions' sources would crowd the context, they are left out of the
    history; after that each follow-up evaluates only the last exchange and its own turn."""
    from app.knowledge.ingest import Ingestor
    from app.store.conversations import create_conversation

    topics = ["tides", "owls", "comets", "bread", "glaciers", "violins", "deserts", "bees"]
    text = "\n\n".join(
        f"## {t.title()}\n\n"
        + " ".join(f"Note {i}: observers record {t} with care." for i in range(40))
        for t in topics
    )
    (tmp_path / "handbook.md").write_text(text)
    cid = create_conversation(service.db)["id"]
    update_settings(service.db, cid, context_length=1024, max_tokens=8)
    Ingestor(service.db, None).add([tmp_path / "handbook.md"], conversation_id=cid)
    results = []
    for topic in topics[:6]:
        result, _ = run(service, TurnRequest("send", cid, f"What about {topic}?"))
        assert result.sources and result.stats is not None
        assert topic in result.sources[0]["text"].lower()
        results.append(result.stats)
    reused = [r.prompt_tokens - r.evaluated_prompt_tokens for r in results]
    # earlier questions gave their sources up (the context holds 1,024 tokens), and from
    # then on the cached prefix grows by one exchange per turn instead of starting over
    gave_way = next(i for i in range(1, len(reused)) if reused[i] < reused[i - 1])
    assert gave_way <= len(reused) - 2, reused
    assert all(a < b for a, b in itertools.pairwise(reused[gave_way:])), reused
    assert all(r.dropped_messages == 0 for r in results)


def test_the_embedding_model_stays_loaded_between_grounded_turns(
    service: ConversationService, tmp_path: Path
) -> None:
    """Retrieval with an embedding model: it is opened on the first grounded turn that
    needs it and reused by the next ones (not loaded and freed per turn)."""
    from app.knowledge.ingest import Ingestor
    from app.models.registry import import_model, set_default
    from app.paths import get_paths
    from app.store.conversations import create_conversation
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    row = import_model(service.db, minilm_gguf_path(), get_paths().models, copy=False)
    set_default(service.db, row["name"], kind="embedding")
    topics = ["tides", "owls", "comets", "bread", "glaciers", "violins", "deserts", "bees"]
    (tmp_path / "book.md").write_text(
        "\n\n".join(f"## {t}\n\n" + f"Notes on {t}. " * 120 for t in topics)
    )
    cid = create_conversation(service.db)["id"]
    update_settings(service.db, cid, context_length=1024, max_tokens=4)
    Ingestor(service.db, None).add([tmp_path / "book.md"], conversation_id=cid)
    run(service, TurnRequest("send", cid, "Tell me about comets."))
    assert service.embedder.is_open
    opened = service.embedder.current()
    second, _ = run(service, TurnRequest("send", cid, "And owls?"))
    assert second.sources
    assert service.embedder.current() is opened
