"""RemoteSession against a real OpenAI-compatible server: `python -m llama_cpp.server`
with SmolLM2 on 127.0.0.1 (``tests.fixtures.llama_cpp_server``), streaming, a refused key,
a timeout and a server killed mid-answer.

The one failure llama_cpp.server cannot produce (it has no rate limit: 429) uses a small
FAKE server (``_Fake429Server``, http.server in a thread), named as such.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from app.engine.remote import RemoteEndpoint, RemoteSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions, TextEvent
from app.errors import RemoteError
from tests.fixtures.llama_cpp_server import StartServer, free_port, llama_cpp_server_fixture

pytestmark = pytest.mark.slow
__all__ = ["llama_cpp_server_fixture"]  # the llama_cpp_server fixture
KEY = "test-key-0123456789"
ASK = [ChatMessage("user", "Name three colours.")]
SHORT = SamplingOptions(temperature=0, max_tokens=12)


@pytest.fixture(scope="module")
def llama_server(llama_cpp_server: StartServer, smollm2_path: Path) -> str:
    """A real `python -m llama_cpp.server` with SmolLM2 on 127.0.0.1 that needs a key
    (run through ``tests.fixtures.llama_cpp_server``: no AMX extra buffers, as the
    engine)."""
    base, _ = llama_cpp_server(smollm2_path, api_key=KEY)
    return base


def endpoint(base: str, key: str | None = KEY, timeout_s: float = 60) -> RemoteEndpoint:
    return RemoteEndpoint("team-server", base, "SmolLM2-135M-Instruct", key, timeout_s)


def ask(ep: RemoteEndpoint, sampling: SamplingOptions = SHORT) -> list[Any]:
    with RemoteSession(ep) as session:
        return list(session.reply(ASK, sampling))


def test_streams_text_events_then_stats(llama_server: str) -> None:
    events = ask(endpoint(llama_server))
    texts = [e for e in events if isinstance(e, TextEvent)]
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    assert len(texts) >= 2  # streamed piece by piece, not one blob
    assert stats.text == "".join(t.text for t in texts) and stats.text.strip()
    # llama_cpp.server sends no usage in a stream: the pieces are counted
    assert stats.completion_tokens == len(texts) <= 12
    assert stats.prompt_tokens == 0 and stats.ttft_s > 0
    assert stats.stop_reason in ("eos", "length")


def test_stop_ends_the_stream(llama_server: str) -> None:
    with RemoteSession(endpoint(llama_server)) as session:
        events = session.reply(ASK, SamplingOptions(temperature=0, max_tokens=200))
        first = next(events)
        assert isinstance(first, TextEvent)
        session.stop()
        rest = list(events)
    stats = rest[-1]
    assert isinstance(stats, ReplyStats) and stats.stop_reason == "user"
    assert len(rest) == 1  # nothing more after the stop


@pytest.mark.parametrize("key", ["wrong-key-0000000000", None])
def test_refused_key_is_a_clear_401(llama_server: str, key: str | None) -> None:
    with pytest.raises(RemoteError) as err:
        ask(endpoint(llama_server, key))
    assert err.value.status == 401
    assert "refused" in str(err.value) and "team-server" in str(err.value)


def test_unreachable_server() -> None:
    with pytest.raises(RemoteError, match="Cannot reach team-server"):
        ask(endpoint(f"http://127.0.0.1:{free_port()}/v1"))


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        base = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        with pytest.raises(RemoteError, match=r"did not answer within 1 s"):
            ask(endpoint(base, timeout_s=1))


def test_slow_server_times_out(llama_server: str) -> None:
    """The real server needs far more than 0.05 s for a long prompt's first token."""
    long_ask = [ChatMessage("user", "Summarise this. " + "The quick brown fox jumps. " * 150)]
    session = RemoteSession(endpoint(llama_server, timeout_s=0.05))
    with session, pytest.raises(RemoteError, match=r"did not answer within 0.05 s"):
        list(session.reply(long_ask, SamplingOptions(temperature=0, max_tokens=1)))


def test_server_killed_mid_answer_keeps_the_partial_answer(
    llama_cpp_server: StartServer, smollm2_path: Path
) -> None:
    base, proc = llama_cpp_server(smollm2_path)
    got: list[str] = []
    with RemoteSession(endpoint(base, key=None)) as session, pytest.raises(RemoteError) as err:
        for event in session.reply(ASK, SamplingOptions(temperature=0, max_tokens=400)):
            if isinstance(event, TextEvent):
                got.append(event.text)
                if len(got) == 3:
                    proc.kill()
    assert len(got) >= 3 and err.value.partial == "".join(got)
    assert "lost" in str(err.value) and "team-server" in str(err.value)


class _Fake429Server(http.server.ThreadingHTTPServer):
    """FAKE: answers 429 with Retry-After (llama_cpp.server has no rate limit)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Fake429Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Fake429Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": {"message": "slow down"}}).encode()
        self.send_response(429)
        self.send_header("Retry-After", "7")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_429_says_when_to_retry() -> None:
    fake = _Fake429Server()
    try:
        with pytest.raises(RemoteError) as err:
            ask(endpoint(fake.base))
        assert err.value.status == 429 and "retry in 7 s" in str(err.value)
    finally:
        fake.shutdown()
        fake.server_close()
