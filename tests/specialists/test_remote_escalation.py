"""Specialists that use a remote server, in the conversation service, against a real
`python -m llama_cpp.server` with SmolLM2 on 127.0.0.1 (``tests.fixtures.llama_cpp_server``)
and the real local SmolLM2: escalation on request and on low confidence, streamed and not,
documents sent only where allowed, a remote main model, and failures (401, a timeout, the
server killed mid-answer, 429 from a named FAKE: llama_cpp.server has no rate limit) that
keep the local answer."""

from __future__ import annotations

import http.server
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import Escalating, RouteChosen, TurnNotice, TurnRequest, TurnResult
from app.engine.types import TextEvent
from app.errors import RemoteError, SpecialistError
from app.store import conversations as convs
from app.store import messages as msgs
from app.store import specialists as store
from app.store.remote_endpoints import add_endpoint
from tests.fixtures.llama_cpp_server import StartServer, llama_cpp_server_fixture

pytestmark = pytest.mark.slow
__all__ = ["llama_cpp_server_fixture"]  # the llama_cpp_server fixture
KEY = "team-key-0123456789"
SERVED = "smollm2-remote"  # the model name the server answers to (--model_alias)


@pytest.fixture
def service_settings() -> dict[str, Any]:
    return {"chat.context_length": 1024, "chat.max_tokens": 24}


@pytest.fixture(scope="module")
def team_server(llama_cpp_server: StartServer, smollm2_path: Path) -> str:
    base, _ = llama_cpp_server(smollm2_path, "--model_alias", SERVED, api_key=KEY, n_threads=1)
    return base


def endpoint(
    service: ConversationService,
    base: str,
    key: str | None = KEY,
    timeout_s: float = 600,
    **kw: Any,
) -> None:
    """The test server as endpoint "team" (a long timeout: the machine is shared)."""
    add_endpoint(service.db, "team", base, SERVED, key, timeout_s, **kw)


def run(service: ConversationService, request: TurnRequest) -> list[Any]:
    return list(service.run(request))


def results(events: list[Any]) -> list[TurnResult]:
    return [e for e in events if isinstance(e, TurnResult)]


def local_answer(service: ConversationService, text: str = "What is the capital of France?") -> Any:
    (first,) = results(run(service, TurnRequest("send", text=f"@General {text}")))
    return first.message


def escalate(service: ConversationService, answer: dict[str, Any], **kw: Any) -> list[Any]:
    return run(service, TurnRequest("regenerate", target_id=answer["id"], escalate=True, **kw))


def leaf(service: ConversationService, answer: dict[str, Any]) -> int:
    conv = convs.get_conversation(service.db, answer["conversation_id"])
    return int(conv["current_leaf_id"])


def test_ask_a_bigger_model_streams_from_the_remote_server(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server)
    first = local_answer(service)
    store.save_specialist(service.db, "General", fallback="remote:team")
    with pytest.raises(SpecialistError, match="may not use a remote server"):
        escalate(service, first)
    store.save_specialist(service.db, "General", allow_remote=True)
    events = escalate(service, first)
    chosen = next(e for e in events if isinstance(e, RouteChosen))
    assert (chosen.method, chosen.model, chosen.remote) == ("escalation", SERVED, "team")
    texts = [e.text for e in events if isinstance(e, TextEvent)]
    assert len(texts) >= 2  # streamed piece by piece
    (big,) = results(events)
    row = big.message
    assert row["content"] == "".join(texts) and row["content"].strip()
    assert (row["model"], row["remote"], row["status"]) == (SERVED, "team", "complete")
    assert row["escalated"] == 1 and row["escalated_from"] == first["id"]
    assert row["parent_id"] == first["parent_id"] and row["confidence"] is None
    assert row["prompt_tokens"] is None  # the stream had no usage: unknown, not 0
    assert row["completion_tokens"] == len(texts)
    assert msgs.get_message(service.db, first["id"])["remote"] is None  # the local one


def test_low_confidence_escalates_to_the_remote_server_without_streaming(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server, stream=False)
    store.save_specialist(
        service.db, "General", fallback="remote:team", allow_remote=True, threshold=0.99
    )
    events = run(service, TurnRequest("send", text="@General Tell me something about owls."))
    first, second = results(events)
    assert first.stats is not None and first.stats.mean_logprob is not None
    # the confidence is the engine's own figure for the tokens it decoded (not re-scored)
    assert first.message["confidence"] == pytest.approx(math.exp(first.stats.mean_logprob))
    escalating = next(e for e in events if isinstance(e, Escalating))
    assert escalating.fallback == "remote:team"
    assert escalating.reason.startswith("confidence ") and escalating.reason.endswith("0.99")
    texts = [e for e in events if isinstance(e, TextEvent)]
    assert texts[-1].text == second.message["content"]  # one piece: the whole reply
    assert (
        second.message["remote"] == "team"
        and second.message["escalated_from"] == (first.message["id"])
    )
    assert second.stats is not None and second.stats.prompt_tokens > 0  # the JSON's usage
    from app.chat.costs import answer_cost, comparison_price, per_conversation

    (total,) = per_conversation(service.db, None, first.conversation_id)
    assert total.answers == 1  # the remote answer avoided no cloud cost: not counted
    assert total.completion_tokens == first.message["completion_tokens"]
    assert answer_cost(second.message, comparison_price(service.db)) is None


def test_documents_go_to_the_remote_server_only_where_allowed(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server, stream=False)
    store.save_specialist(service.db, "General", fallback="remote:team", allow_remote=True)
    first = local_answer(service, "What colour is the door?")
    secret = "Source [1] house.txt page 1: The front door of the house is painted green. " * 8
    msgs.save_context(service.db, first["parent_id"], secret)  # as grounding saves it
    kept_back = escalate(service, first)
    notice = next(e for e in kept_back if isinstance(e, TurnNotice))
    assert "does not send documents to remote servers" in notice.message
    (without,) = results(kept_back)
    store.save_specialist(service.db, "General", remote_documents=True)
    (with_docs,) = results(escalate(service, first))
    assert without.stats is not None and with_docs.stats is not None
    # the server counted the sources' tokens only when they were allowed to go
    assert with_docs.stats.prompt_tokens > without.stats.prompt_tokens + 100


def test_a_specialist_may_answer_with_a_remote_model(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server)
    store.save_specialist(service.db, "Writing", model="remote:team", allow_remote=True)
    events = run(service, TurnRequest("send", text="@Writing a line about rain"))
    chosen = next(e for e in events if isinstance(e, RouteChosen))
    assert chosen.remote == "team" and chosen.model == SERVED
    (result,) = results(events)
    assert result.message["remote"] == "team" and result.message["content"].strip()
    assert service.pool_state()["models"] == []  # no local model was loaded for it
    conv = convs.get_conversation(service.db, result.conversation_id)
    assert conv["model"] is None  # the conversation does not take the remote model


def test_a_refused_key_keeps_the_local_answer(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server, key="wrong-key-000000")
    store.save_specialist(service.db, "General", fallback="remote:team", allow_remote=True)
    first = local_answer(service)
    with pytest.raises(RemoteError) as err:
        escalate(service, first)
    assert err.value.status == 401
    assert "refused" in str(err.value) and "Lantern's own answer is kept" in str(err.value)
    failed = [m for m in msgs.siblings(service.db, first["id"]) if m["id"] != first["id"]]
    assert [(m["status"], m["remote"]) for m in failed] == [("error", "team")]
    assert leaf(service, first) == first["id"]  # the local answer is the one shown


def test_a_server_killed_mid_answer_keeps_both_answers(
    service: ConversationService, llama_cpp_server: StartServer, smollm2_path: Path
) -> None:
    base, proc = llama_cpp_server(smollm2_path, n_threads=1)
    endpoint(service, base, key=None)
    store.save_specialist(service.db, "General", fallback="remote:team", allow_remote=True)
    first = local_answer(service)
    got: list[str] = []
    request = TurnRequest("regenerate", target_id=first["id"], escalate=True, max_tokens=400)
    with pytest.raises(RemoteError, match="lost mid-answer"):
        for event in service.run(request):
            if isinstance(event, TextEvent):
                got.append(event.text)
                if len(got) == 3:
                    proc.kill()
    (failed,) = [m for m in msgs.siblings(service.db, first["id"]) if m["id"] != first["id"]]
    assert failed["status"] == "error" and failed["content"] == "".join(got)
    assert leaf(service, first) == first["id"]


def test_a_slow_remote_model_times_out_with_a_clear_message(
    service: ConversationService, team_server: str
) -> None:
    endpoint(service, team_server, timeout_s=0.05)
    store.save_specialist(service.db, "Writing", model="remote:team", allow_remote=True)
    long = "Rewrite this: " + "the quick brown fox jumps over the lazy dog. " * 60
    with pytest.raises(RemoteError, match=r"did not answer within 0.05 s"):
        run(service, TurnRequest("send", text=f"@Writing {long}"))


class _Fake429Server(http.server.ThreadingHTTPServer):
    """FAKE: answers every request 429 with Retry-After (llama_cpp.server has no rate
    limit to provoke)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Fake429Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Fake429Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": {"message": "rate limited"}}).encode()
        self.send_response(429)
        self.send_header("Retry-After", "30")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_too_many_requests_keeps_the_local_answer(service: ConversationService) -> None:
    fake = _Fake429Server()
    try:
        endpoint(service, f"http://127.0.0.1:{fake.server_address[1]}/v1")
        store.save_specialist(service.db, "General", fallback="remote:team", allow_remote=True)
        first = local_answer(service)
        with pytest.raises(RemoteError, match=r"too many requests \(429\); retry in 30 s"):
            escalate(service, first)
    finally:
        fake.shutdown()
        fake.server_close()
    assert leaf(service, first) == first["id"]
