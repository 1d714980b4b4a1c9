"""A chat session on a remote OpenAI-compatible server (a team's llama-server, vLLM or
Ollama, or a cloud API), with the same events as ``ChatSession.reply``: ``TextEvent``
pieces as the server streams them (SSE), then one ``ReplyStats``.

Failures are ``RemoteError`` with a sentence the user can act on: the server cannot be
reached, the key is refused (401/403), too many requests (429, with the server's
``Retry-After``), a timeout, or a reply that is not an OpenAI stream. A failure after some
text keeps it: ``RemoteError.partial`` is what arrived (the service saves it with the
failed answer). ``stop()`` (any thread) ends the stream within one event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx

from app.engine.types import ChatMessage, ReplyEvent, ReplyStats, SamplingOptions, TextEvent
from app.errors import RemoteError
from app.logs import get_logger

log = get_logger("engine")


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where and what to ask: ``base_url`` ends in ``/v1`` (as OpenAI clients take it)."""

    name: str
    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0  # connect and between two streamed events
    stream: bool = True  # False: one JSON reply (its usage counts the prompt's tokens)


class RemoteSession:
    """One remote model; ``reply`` may be called from any one thread at a time."""

    def __init__(self, endpoint: RemoteEndpoint, client: httpx.Client | None = None) -> None:
        self.endpoint = endpoint
        self._client = client or httpx.Client(timeout=httpx.Timeout(endpoint.timeout_s))
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reply(
        self, messages: list[ChatMessage], sampling: SamplingOptions | None = None
    ) -> Iterator[ReplyEvent]:
        """Stream the answer to ``messages``; see the module docstring."""
        self._stop.clear()
        sampling = sampling or SamplingOptions()
        if not self.endpoint.stream:
            return self._whole(messages, sampling, time.perf_counter())
        return self._stream(messages, sampling, time.perf_counter())

    def _body(self, messages: list[ChatMessage], sampling: SamplingOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": self.endpoint.stream,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if self.endpoint.stream:
            body["stream_options"] = {"include_usage": True}
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        return body

    def _whole(
        self, messages: list[ChatMessage], sampling: SamplingOptions, started: float
    ) -> Iterator[ReplyEvent]:
        """The answer as one JSON reply: one ``TextEvent``, then the stats."""
        ep = self.endpoint
        try:
            response = self._client.post(
                self._url(), json=self._body(messages, sampling), headers=self._headers()
            )
            _check_status(ep, response)
            reply = _json(ep, response.text)
        except httpx.TimeoutException as exc:
            raise _timeout(ep) from exc
        except httpx.HTTPError as exc:
            raise _unreachable(ep, exc) from exc
        if "error" in reply:
            raise RemoteError(f"{ep.name}: the server reported an error: {_message(reply)}")
        choice = (reply.get("choices") or [{}])[0]
        text = str((choice.get("message") or {}).get("content") or "")
        total = time.perf_counter() - started
        if text:
            yield TextEvent(text)
        usage = reply.get("usage") or {}
        completion = int(usage.get("completion_tokens") or 0)
        yield ReplyStats(
            text=text,
            stop_reason=_stop_reason(choice.get("finish_reason")),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            evaluated_prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=completion,
            ttft_s=total,  # the whole answer arrives at once
            tokens_per_s=completion / total if total > 0 else 0.0,
            llama_decode_tokens_per_s=0.0,
            llama_prompt_eval_ms=0.0,
            llama_eval_ms=0.0,
            total_s=total,
        )

    def _url(self) -> str:
        return self.endpoint.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if self.endpoint.stream else "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        return headers

    def _stream(
        self, messages: list[ChatMessage], sampling: SamplingOptions, started: float
    ) -> Iterator[ReplyEvent]:
        ep = self.endpoint
        parts: list[str] = []
        usage: dict[str, Any] = {}
        finish: str | None = None
        ttft = 0.0
        first_at = 0.0
        pieces = 0
        try:
            with self._client.stream(
                "POST", self._url(), json=self._body(messages, sampling), headers=self._headers()
            ) as response:
                _check_status(ep, response)
                for data in _sse_data(response.iter_lines()):
                    if self._stop.is_set():
                        finish = "user"
                        break
                    if data == "[DONE]":
                        break
                    chunk = _json(ep, data)
                    if "error" in chunk:
                        raise RemoteError(f"{ep.name}: the server reported an error: "
                                          f"{_message(chunk)}")  # fmt: skip
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        finish = choice.get("finish_reason") or finish
                        if text:
                            if not ttft:
                                ttft, first_at = time.perf_counter() - started, time.perf_counter()
                            pieces += 1
                            parts.append(text)
                            yield TextEvent(text)
        except RemoteError as exc:
            exc.partial = exc.partial or "".join(parts)
            raise
        except httpx.TimeoutException as exc:
            raise _timeout(ep, "".join(parts)) from exc
        except httpx.HTTPError as exc:
            if parts:  # it had answered: the line dropped (server killed, network gone)
                raise RemoteError(
                    f"The connection to {ep.name} ({ep.base_url}) was lost mid-answer "
                    f"({type(exc).__name__}); the part that arrived is kept.",
                    partial="".join(parts),
                ) from exc
            raise _unreachable(ep, exc) from exc
        total = time.perf_counter() - started
        completion = int(usage.get("completion_tokens") or pieces)
        gen_s = time.perf_counter() - first_at if first_at else 0.0
        yield ReplyStats(
            text="".join(parts),
            stop_reason=_stop_reason(finish),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            evaluated_prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=completion,
            ttft_s=ttft or total,
            tokens_per_s=completion / gen_s if gen_s > 0 else 0.0,
            llama_decode_tokens_per_s=0.0,
            llama_prompt_eval_ms=0.0,
            llama_eval_ms=0.0,
            total_s=total,
        )


def _timeout(ep: RemoteEndpoint, partial: str = "") -> RemoteError:
    return RemoteError(
        f"{ep.name} ({ep.base_url}) did not answer within {ep.timeout_s:g} s; "
        "try again later or raise the endpoint's timeout.",
        partial=partial,
    )


def _unreachable(ep: RemoteEndpoint, exc: Exception) -> RemoteError:
    return RemoteError(
        f"Cannot reach {ep.name} at {ep.base_url} ({type(exc).__name__}: {exc}); "
        "check the URL and the network."
    )


def _stop_reason(finish: str | None) -> Any:
    return {"length": "length", "user": "user"}.get(finish or "", "eos")


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event (multi-line data joined by newlines)."""
    buf: list[str] = []
    for line in lines:
        if not line:
            if buf:
                yield "\n".join(buf)
                buf = []
            continue
        if line.startswith("data:"):
            buf.append(line[5:].removeprefix(" "))
    if buf:
        yield "\n".join(buf)


def _json(ep: RemoteEndpoint, data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise RemoteError(
            f"{ep.name} sent something that is not an OpenAI stream ({data[:80]!r})."
        ) from exc
    if not isinstance(value, dict):
        raise RemoteError(f"{ep.name} sent something that is not an OpenAI stream.")
    return value


def _message(body: dict[str, Any]) -> str:
    err = body.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err or body.get("detail") or body)[:200]


def _check_status(ep: RemoteEndpoint, response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    response.read()
    try:
        detail = _message(response.json())
    except ValueError:
        detail = response.text[:200]
    if status in (401, 403):
        what = "no API key was sent" if not ep.api_key else "the API key was refused"
        raise RemoteError(
            f"{ep.name} refused the request ({status}: {what}); check the endpoint's API key.",
            status,
        )
    if status == 429:
        wait = response.headers.get("retry-after")
        later = f"retry in {wait} s" if wait else "retry later"
        raise RemoteError(f"{ep.name} has too many requests (429); {later}. ({detail})", status)
    if status == 404:
        raise RemoteError(
            f"{ep.name} does not know the model {ep.model!r} or the URL "
            f"{ep.base_url} (404: {detail}).",
            status,
        )
    raise RemoteError(f"{ep.name} answered {status}: {detail}", status)
