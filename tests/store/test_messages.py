from __future__ import annotations

import subprocess
import sys

import pytest
import sqlite_utils

from app.engine.types import ReplyStats
from app.errors import NotFoundError
from app.store import messages as msgs
from app.store.conversations import create_conversation, get_conversation


def _stats(text: str, stop_reason: str = "eos") -> ReplyStats:
    return ReplyStats(
        text=text,
        stop_reason=stop_reason,  # type: ignore[arg-type]
        prompt_tokens=12,
        evaluated_prompt_tokens=12,
        completion_tokens=3,
        ttft_s=0.05,
        tokens_per_s=80.0,
        llama_decode_tokens_per_s=90.0,
        llama_prompt_eval_ms=10.0,
        llama_eval_ms=30.0,
        total_s=0.1,
    )


def _contents(rows: list[dict]) -> list[str]:
    return [r["content"] for r in rows]


def test_messages_chain_under_the_current_leaf(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    q = msgs.add_message(db, cid, "user", "Hi")
    a = msgs.add_message(db, cid, "assistant", "Hello!", model="m")
    assert q["parent_id"] is None
    assert a["parent_id"] == q["id"]
    assert a["model"] == "m" and a["status"] == "complete"
    assert get_conversation(db, cid)["current_leaf_id"] == a["id"]
    assert _contents(msgs.active_path(db, cid)) == ["Hi", "Hello!"]


def test_empty_conversation_has_empty_path(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    assert msgs.active_path(db, cid) == []


def test_regenerate_is_a_new_branch_and_keeps_the_old_answer(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    q = msgs.add_message(db, cid, "user", "Q")
    first = msgs.add_message(db, cid, "assistant", "A1")
    second = msgs.add_message(db, cid, "assistant", "A2", parent_id=q["id"])
    assert _contents(msgs.children(db, q["id"])) == ["A1", "A2"]
    assert _contents(msgs.active_path(db, cid)) == ["Q", "A2"]
    assert [s["id"] for s in msgs.siblings(db, first["id"])] == [first["id"], second["id"]]
    msgs.switch_branch(db, first["id"])
    assert _contents(msgs.active_path(db, cid)) == ["Q", "A1"]


def test_edit_makes_a_sibling_branch(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    q1 = msgs.add_message(db, cid, "user", "first question")
    msgs.add_message(db, cid, "assistant", "first answer")
    q2 = msgs.add_message(db, cid, "user", "follow-up")
    msgs.add_message(db, cid, "assistant", "second answer")
    edited = msgs.edit_message(db, q2["id"], "better follow-up")
    assert edited["parent_id"] == q2["parent_id"]
    assert _contents(msgs.active_path(db, cid)) == [
        "first question",
        "first answer",
        "better follow-up",
    ]
    # Editing the first message starts a new root; nothing was deleted.
    root2 = msgs.edit_message(db, q1["id"], "another start")
    assert root2["parent_id"] is None
    assert _contents(msgs.active_path(db, cid)) == ["another start"]
    assert db.table("messages").count == 6
    assert len(msgs.siblings(db, q1["id"])) == 2
    # Going back to the old branch follows its newest descendants.
    leaf = msgs.switch_branch(db, q1["id"])
    assert leaf["content"] == "better follow-up"


def test_root_branch_and_foreign_parent(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    other = create_conversation(db)["id"]
    msgs.add_message(db, cid, "user", "a")
    root = msgs.add_message(db, cid, "user", "b", parent_id=msgs.ROOT)
    assert root["parent_id"] is None
    foreign = msgs.add_message(db, other, "user", "x")
    with pytest.raises(ValueError, match="not in conversation"):
        msgs.add_message(db, cid, "assistant", "y", parent_id=foreign["id"])
    with pytest.raises(NotFoundError):
        msgs.add_message(db, 999, "user", "nowhere")
    with pytest.raises(NotFoundError):
        msgs.get_message(db, 999)
    with pytest.raises(ValueError, match="unknown role"):
        msgs.add_message(db, cid, "robot", "beep")


def test_streaming_answer_saves_partial_text(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    q = msgs.add_message(db, cid, "user", "Count")
    answer = msgs.StreamingAnswer(db, cid, None, "m", flush_interval=0)
    row = msgs.get_message(db, answer.message_id)
    assert (row["status"], row["content"], row["parent_id"]) == ("streaming", "", q["id"])
    assert get_conversation(db, cid)["current_leaf_id"] == answer.message_id
    answer.append("one,")
    assert msgs.get_message(db, answer.message_id)["content"] == "one,"
    answer.append(" two")
    assert msgs.get_message(db, answer.message_id)["content"] == "one, two"
    done = answer.finish(_stats("one, two"))
    assert done["status"] == "complete"
    assert (done["prompt_tokens"], done["completion_tokens"], done["stop_reason"]) == (12, 3, "eos")
    assert done["ttft_s"] == 0.05 and done["tokens_per_s"] == 80.0
    with pytest.raises(RuntimeError):
        answer.append("more")


def test_streaming_answer_waits_for_the_flush_interval(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    answer = msgs.StreamingAnswer(db, cid, None, "m", flush_interval=3600)
    answer.append("first")  # the first piece is saved at once
    answer.append(" second")  # within the interval: kept in memory
    assert msgs.get_message(db, answer.message_id)["content"] == "first"
    answer.flush()
    assert msgs.get_message(db, answer.message_id)["content"] == "first second"


def test_stopped_error_and_aborted_answers(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    msgs.add_message(db, cid, "user", "Q")
    stopped = msgs.StreamingAnswer(db, cid, None, "m")
    stopped.append("partial")
    row = stopped.finish(_stats("partial", stop_reason="user"))
    assert (row["status"], row["content"], row["stop_reason"]) == ("stopped", "partial", "user")

    failed = msgs.StreamingAnswer(db, cid, None, "m")
    failed.append("half")
    row = failed.fail("The model crashed.")
    assert (row["status"], row["content"], row["error"]) == ("error", "half", "The model crashed.")

    aborted = msgs.StreamingAnswer(db, cid, None, "m", flush_interval=3600)
    aborted.append("a")
    aborted.append("b")
    row = aborted.abort()
    assert (row["status"], row["content"]) == ("stopped", "ab")


def _dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recover_interrupted_only_touches_answers_of_dead_writers(
    db: sqlite_utils.Database,
) -> None:
    cid = create_conversation(db)["id"]
    msgs.add_message(db, cid, "user", "Q")
    answer = msgs.StreamingAnswer(db, cid, None, "m")
    answer.append("cut off mid")
    live = msgs.StreamingAnswer(db, cid, None, "m")
    live.append("still going")
    done = msgs.StreamingAnswer(db, cid, None, "m")
    done.finish(_stats("fine"))
    legacy = msgs.StreamingAnswer(db, cid, None, "m")  # written before writers were recorded
    db.table("messages").update(answer.message_id, {"writer_pid": _dead_pid()})
    db.table("messages").update(legacy.message_id, {"writer_pid": None})
    assert msgs.recover_interrupted(db) == 2
    row = msgs.get_message(db, answer.message_id)
    assert (row["status"], row["content"]) == ("interrupted", "cut off mid")
    assert msgs.get_message(db, legacy.message_id)["status"] == "interrupted"
    assert msgs.get_message(db, live.message_id)["status"] == "streaming"
    assert msgs.get_message(db, done.message_id)["status"] == "complete"
    assert msgs.recover_interrupted(db) == 0


def test_a_recycled_pid_is_not_the_writer(db: sqlite_utils.Database) -> None:
    """Same pid, other start time: another process got the pid; the writer is gone."""
    cid = create_conversation(db)["id"]
    answer = msgs.StreamingAnswer(db, cid, None, "m")
    pid, started = msgs.this_writer()
    assert msgs.get_message(db, answer.message_id)["writer_pid"] == pid
    db.table("messages").update(answer.message_id, {"writer_started": started - 3600})
    assert msgs.recover_interrupted(db) == 1


def test_a_kept_piece_is_saved_when_due_or_at_the_end(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    answer = msgs.StreamingAnswer(db, cid, None, "m", flush_interval=3600)
    answer.keep("first")  # handed to the front end before it is saved
    assert msgs.get_message(db, answer.message_id)["content"] == ""
    answer.flush_due()  # the first save is due at once
    assert msgs.get_message(db, answer.message_id)["content"] == "first"
    answer.keep(" second")
    answer.flush_due()  # within the interval: kept in memory
    assert msgs.get_message(db, answer.message_id)["content"] == "first"
    answer.keep(" third")  # cut off before the next save: the end keeps every piece
    assert answer.abort()["content"] == "first second third"


def test_a_streaming_answer_names_its_writer_from_its_first_write(
    db: sqlite_utils.Database,
) -> None:
    cid = create_conversation(db)["id"]
    answer = msgs.StreamingAnswer(db, cid, None, "m")
    row = msgs.get_message(db, answer.message_id)
    assert (row["writer_pid"], row["writer_started"]) == msgs.this_writer()


def test_a_live_writer_whose_start_time_reads_a_second_off_is_still_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """psutil's start time is /proc/stat's boot time (whole seconds, moved when the clock
    is stepped) plus the process's age: the same process can read a second apart. CI once
    marked a live answer interrupted that way. A recycled pid starts much later."""
    pid, started = msgs.this_writer()
    monkeypatch.setattr(msgs, "_process_started", lambda p: started + 1.0)
    assert msgs.writer_alive(pid, started)
    monkeypatch.setattr(msgs, "_process_started", lambda p: started + 60.0)
    assert not msgs.writer_alive(pid, started)
