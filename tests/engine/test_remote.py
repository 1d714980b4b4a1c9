"""RemoteSession against a real OpenAI-compatible server with SmolLM2 on 127.0.0.1.

Two failures a healthy server does not produce on demand (a 429, a stream cut mid-answer) use a
small FAKE server (``_FakeServer``, http.server in a thread), named as such.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from app.engine.remote import RemoteEndpoint, RemoteSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions, TextEvent
from app.errors import RemoteError

pytestmark = pytest.mark.slow
KEY = "test-key-0123456789"
ASK = [ChatMessage("user", "Name three colours.")]
SHORT = SamplingOptions(temperature=0, max_tokens=12)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenAI-compatible server with SmolLM2 on 127.0.0.1 that needs a key.

    `python -m llama_cpp.server` was the plan, but llama-cpp-python 0.3.36's high-level
    ``Llama`` (which it serves with) segfaults in ``llama_decode`` on any prompt longer
    than one token with this build (checked by hand: ``create_completion('Hello there')``
    exits 139), so the server is `lantern serve` in its own process: uvicorn, SSE, keys.
    """
    from tests.api.conftest import start_server, stop_server

    served = start_server(tmp_path_factory.mktemp("remote-home"), "--key", KEY)
    yield served.base_url
    stop_server(served)


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
    assert 0 < stats.completion_tokens <= 12
    assert stats.prompt_tokens > 0 and stats.ttft_s > 0
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


class _FakeServer(http.server.ThreadingHTTPServer):
    """FAKE: answers 429 with Retry-After, or streams two chunks and drops the line."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _FakeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.mode == "429":  # type: ignore[attr-defined]
            body = json.dumps({"error": {"message": "slow down"}}).encode()
            self.send_response(429)
            self.send_header("Retry-After", "7")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", "100000")  # promises more than it sends
        self.end_headers()
        for text in ("Half ", "an answer"):
            chunk = {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)


def test_429_says_when_to_retry() -> None:
    fake = _FakeServer("429")
    try:
        with pytest.raises(RemoteError) as err:
            ask(endpoint(fake.base))
        assert err.value.status == 429 and "retry in 7 s" in str(err.value)
    finally:
        fake.shutdown()
        fake.server_close()


def test_dropped_stream_keeps_the_partial_answer() -> None:
    fake = _FakeServer("drop")
    got: list[str] = []
    try:
        with pytest.raises(RemoteError) as err, RemoteSession(endpoint(fake.base)) as session:
            for event in session.reply(ASK, SHORT):
                if isinstance(event, TextEvent):
                    got.append(event.text)
    finally:
        fake.shutdown()
        fake.server_close()
    assert "".join(got) == "Half an answer"
    assert err.value.partial == "Half an answer"
