"""``POST /v1/chat/completions``: a request becomes a service turn on the owner thread;
its events become one JSON answer or a stream of server-sent events."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from app.api.errors import ApiError, from_lantern
from app.api.schemas import ChatRequest
from app.api.worker import DONE, Failure, Job, JobRunner
from app.chat.api_turns import Target, api_turn
from app.chat.types import (
    AnswerStarting,
    Escalating,
    SourcesReady,
    TextEvent,
    TurnResult,
)
from app.engine.grammar import JSON_OBJECT, json_schema_grammar
from app.engine.types import ChatMessage
from app.errors import GrammarError, LanternError

FINISH = {"eos": "stop", "user": "stop", "length": "length", "context": "length"}


def _finish(result: TurnResult) -> str:
    if result.note == "stop" or result.stats is None:
        return "stop"
    return FINISH.get(result.stats.stop_reason, "stop")


def _usage(result: TurnResult | None) -> dict[str, int]:
    stats = result.stats if result else None
    p, c = (stats.prompt_tokens, stats.completion_tokens) if stats else (0, 0)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _extra(
    result: TurnResult | None, sources: Any, saved: bool, server_ttft_s: float | None = None
) -> dict[str, Any]:
    """The non-standard ``lantern`` object of a response. ``server_ttft_s`` (a stream's):
    from the request reaching the app to its first text written to the socket; less the
    engine's ``ttft_s``, it is what the server added before the first token."""
    row = result.message if result else {}
    out: dict[str, Any] = {"model": row.get("model"), "specialist": row.get("specialist")}
    if sources is not None:
        out["sources"] = sources
    stats = result.stats if result else None
    if stats is not None:  # the engine's own figures (bench.api compares the client's)
        out["engine"] = {
            "ttft_s": round(stats.ttft_s, 6),
            "tokens_per_s": stats.tokens_per_s,
            "total_s": round(stats.total_s, 6),
        }
    if server_ttft_s is not None:
        out["server"] = {"ttft_s": round(server_ttft_s, 6)}
    if saved and result is not None:
        out["conversation_id"] = result.conversation_id
    return out


def response_grammar(req: ChatRequest) -> str | None:
    """The GBNF grammar ``response_format`` asks for (None: free text); 400 when it
    cannot be followed (an unknown type, a missing or bad JSON schema)."""
    fmt = req.response_format or {"type": "text"}
    kind = fmt.get("type", "text")
    try:
        if kind == "text":
            return None
        if kind == "json_object":  # llama.cpp's server also takes a "schema" here
            return json_schema_grammar(fmt["schema"]) if "schema" in fmt else JSON_OBJECT
        if kind == "json_schema":
            spec = fmt.get("json_schema")
            if not isinstance(spec, dict) or "schema" not in spec:
                raise GrammarError(
                    'response_format json_schema needs {"json_schema": {"name": ..., '
                    '"schema": {...}}}.'
                )
            return json_schema_grammar(spec["schema"])
    except GrammarError as exc:
        raise ApiError(400, str(exc), param="response_format", code="invalid_json_schema") from exc
    raise ApiError(
        400,
        f"response_format type {kind!r} is not supported: use 'text', 'json_object' or "
        "'json_schema'.",
        param="response_format",
        code="unsupported_response_format",
    )


def make_job(
    req: ChatRequest, target: Target, loop: asyncio.AbstractEventLoop, grammar: str | None = None
) -> Job:
    messages = [
        ChatMessage("system" if m.role == "developer" else m.role, m.text()) for m in req.messages
    ]
    opts = req.lantern
    max_tokens = req.max_completion_tokens or req.max_tokens

    def work(service: Any) -> Any:
        return api_turn(
            service,
            messages,
            target,
            sampling={**req.sampling(), **({"grammar": grammar} if grammar else {})},
            max_tokens=max_tokens,
            stop=req.stops(),
            collection=opts.collection if opts else None,
            save=bool(opts and opts.save),
        )

    return Job(target.name, work, loop, first_out=threading.Event() if req.stream else None)


async def _next(job: Job) -> Any:
    item = await job.out.get()
    if isinstance(item, Failure):
        exc = item.error
        if isinstance(exc, LanternError):
            raise from_lantern(exc)
        raise ApiError(500, f"Unexpected error ({type(exc).__name__}); see the log file.",
                       type_="server_error", code="internal_error")  # fmt: skip
    return item


async def complete(job: Job, worker: JobRunner, req: ChatRequest) -> Response:
    """The whole answer as one ``chat.completion``."""
    parts: list[str] = []
    result: TurnResult | None = None
    sources: Any = None
    try:
        while (item := await _next(job)) is not DONE:
            if isinstance(item, TextEvent):
                parts.append(item.text)
            elif isinstance(item, Escalating):
                parts.clear()  # the fallback's answer replaces the low-confidence one
            elif isinstance(item, SourcesReady):
                sources = item.sources
            elif isinstance(item, TurnResult):
                result = item
    finally:
        if result is None:
            worker.cancel(job)  # an error or a client gone: free the model
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(parts)},
                "finish_reason": _finish(result) if result else "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(result),
        "lantern": _extra(result, sources, bool(req.lantern and req.lantern.save)),
    }
    return JSONResponse(body)


async def stream(job: Job, worker: JobRunner, req: ChatRequest, received: float) -> Response:
    """Server-sent events. What the request is refused for (an unknown model, a prompt
    over the context, a bad template or grammar) is a plain error response, as OpenAI's;
    the stream's headers go out once the engine has taken the prompt (``AnswerStarting``),
    so the client gets ready while the prompt is evaluated. An error after that is an
    ``error`` event in the stream. The client going away cancels the generation.
    ``received``: ``time.perf_counter()`` when the request reached the app."""
    first: list[Any] = []
    try:
        while True:  # up to the engine taking the prompt (or the first text: a remote turn)
            item = await _next(job)
            first.append(item)
            if item is DONE or isinstance(item, AnswerStarting | TextEvent | TurnResult):
                break
    except BaseException:
        worker.cancel(job)
        raise
    return StreamingResponse(
        _events(job, worker, req, first, received),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    job: Job, worker: JobRunner, req: ChatRequest, first: list[Any], received: float
) -> AsyncIterator[str]:
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        body = {
            "id": cid, "object": "chat.completion.chunk", "created": created,
            "model": req.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **more,
        }  # fmt: skip
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    sources: Any = None
    first_written: float | None = None
    done = False
    # The role chunk goes out as soon as the engine has taken the prompt: the client has
    # parsed it before the first text comes (a remote turn has no ``AnswerStarting``: its
    # role chunk goes out in one write with the first text).
    head = chunk({"role": "assistant", "content": ""})
    try:
        pending = list(first)
        while True:
            try:
                item = pending.pop(0) if pending else await _next(job)
            except ApiError as exc:
                yield head + f"data: {json.dumps(exc.body())}\n\n"
                head = ""
                break
            if item is DONE:
                break
            if isinstance(item, TextEvent):
                yield head + chunk({"content": item.text})
                head = ""
                if first_written is None:  # resumed once the chunk is on the socket
                    first_written = time.perf_counter()
                if job.first_out is not None:
                    job.first_out.set()  # written: the owner thread computes the next token
            elif isinstance(item, SourcesReady):
                sources = item.sources
            elif isinstance(item, TurnResult):
                saved = bool(req.lantern and req.lantern.save)
                server_ttft = first_written - received if first_written is not None else None
                yield head + chunk({}, _finish(item), usage=_usage(item),
                                   lantern=_extra(item, sources, saved, server_ttft))  # fmt: skip
                head = ""
            elif isinstance(item, AnswerStarting) and head:
                yield head
                head = ""
        if head:
            yield head
        yield "data: [DONE]\n\n"
        done = True
    finally:
        if job.first_out is not None:
            job.first_out.set()
        if not done:
            worker.cancel(job)  # the client went away mid-stream
