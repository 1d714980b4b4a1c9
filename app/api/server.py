"""The Starlette app of `lantern serve` and the window's switch: routes, key check, CORS.

Reads that take a moment (the model list, checking a model or collection name) use a
connection of the event loop's own; everything that runs a model goes to the owner
thread (``worker.ServiceWorker``).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import __version__
from app.api import chat
from app.api.errors import ApiError, from_lantern
from app.api.keys import KeyCheck
from app.api.schemas import ChatRequest, EmbeddingRequest
from app.api.worker import DONE, Failure, Job, JobRunner, ServiceWorker
from app.chat.api_turns import resolve_model, served_models
from app.errors import LanternError
from app.gc_pauses import freeze_startup_objects
from app.logs import get_logger

log = get_logger("api")

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass
class ServerConfig:
    db_path: Path
    key_hash: str | None = None  # None: no key asked (loopback only)
    cors_origins: tuple[str, ...] = ()
    queue_size: int = 4
    # None: a ``ServiceWorker`` of the server's own; else the host of a front end that
    # already owns a service (the window: its model pool is shared, ``HostedWorker``).
    runner: Callable[[int], JobRunner] | None = None
    # `lantern serve`: once started, what is alive (modules, the app, the service) is
    # left out of Python's full garbage collections (``gc.freeze``), which took 15-26 ms
    # each, now and then in the middle of a request. Not in the window: its views come
    # and go, and frozen ones would never be collected.
    freeze_gc: bool = False


T = TypeVar("T", bound=BaseModel)


def _parse(model: type[T], raw: bytes) -> T:
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, f"The body is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ApiError(422, f"{where}: {err['msg']}", param=where, code="invalid_value") from exc


def create_app(config: ServerConfig) -> Starlette:
    keys = KeyCheck(config.key_hash)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from app.store.db import open_db

        worker: JobRunner = (
            config.runner(config.queue_size)
            if config.runner is not None
            else ServiceWorker(config.db_path, config.queue_size)
        )
        await asyncio.to_thread(worker.start)
        state["worker"], state["db"] = worker, open_db(config.db_path)
        if config.freeze_gc:
            gc.collect()  # nothing is served yet: a full pass costs no request anything
            freeze_startup_objects()
        log.info("API server ready (key %s)", "required" if keys.required else "not required")
        try:
            yield
        finally:
            await asyncio.to_thread(worker.close)
            state["db"].close()

    def handler(
        fn: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except ApiError as exc:
                return exc.response()
            except LanternError as exc:
                return from_lantern(exc).response()

        return wrapped

    async def health(request: Request) -> Response:
        worker: JobRunner = state["worker"]
        return JSONResponse({"status": "ok", "version": __version__, "queued": worker.pending()})

    def model_objects() -> list[dict[str, Any]]:
        now = int(time.time())
        return [
            {
                "id": m["id"],
                "object": "model",
                "created": now,
                "owned_by": "lantern",
                "lantern": {k: v for k, v in m.items() if k != "id"},
            }
            for m in served_models(state["db"])
        ]

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": model_objects()})

    async def model(request: Request) -> Response:
        """``GET /v1/models/{id}`` (editors check the model they are set up with)."""
        wanted = request.path_params["model"]
        for row in model_objects():
            if row["id"] == wanted:
                return JSONResponse(row)
        resolve_model(state["db"], wanted)  # the same 404 as a chat request naming it
        raise ApiError(404, f"The model {wanted!r} does not exist.", code="model_not_found")

    async def completions(request: Request) -> Response:
        received = time.perf_counter()
        req = _parse(ChatRequest, await request.body())
        target = resolve_model(state["db"], req.model)
        grammar = chat.response_grammar(req)
        if req.lantern and req.lantern.collection:
            from app.knowledge.collections import find_collection

            find_collection(state["db"], req.lantern.collection)
        worker: JobRunner = state["worker"]
        job = chat.make_job(req, target, asyncio.get_running_loop(), grammar)
        worker.submit(job)
        if req.stream:
            return await chat.stream(job, worker, req, received)
        return await chat.complete(job, worker, req)

    async def embeddings(request: Request) -> Response:
        req = _parse(EmbeddingRequest, await request.body())
        texts = [req.input] if isinstance(req.input, str) else req.input
        if any(not t for t in texts):
            raise ApiError(422, "input: texts to embed must not be empty", param="input")
        worker: JobRunner = state["worker"]
        job = Job("embedding", lambda service: _embed(service, texts), asyncio.get_running_loop())
        worker.submit(job)
        result: Any = None
        while (item := await job.out.get()) is not DONE:
            if isinstance(item, Failure):
                if isinstance(item.error, LanternError):
                    raise from_lantern(item.error)
                raise ApiError(500, "Unexpected error; see the log file.", type_="server_error")
            result = item
        vectors, tokens, name = result
        data = [
            {"object": "embedding", "index": i, "embedding": _encode(v, req.encoding_format)}
            for i, v in enumerate(vectors)
        ]
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse({"object": "list", "data": data, "model": name, "usage": usage})

    async def not_found(request: Request) -> Response:
        return ApiError(404, f"No such endpoint: {request.method} {request.url.path}").response()

    class KeyMiddleware:
        """Pure ASGI (streams pass through untouched): ``/v1/*`` needs the key."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/v1"):
                headers = dict(scope.get("headers") or [])
                auth = headers.get(b"authorization", b"").decode("latin-1")
                if scope["method"] != "OPTIONS" and not keys.ok(auth):
                    response = ApiError(
                        401,
                        "A valid API key is required: send 'Authorization: Bearer KEY'.",
                        code="invalid_api_key",
                    ).response()
                    await response(scope, receive, send)
                    return
            await self.app(scope, receive, send)

    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
        )
    if keys.required:
        middleware.append(Middleware(KeyMiddleware))
    routes = [
        Route("/health", handler(health), methods=["GET"]),
        Route("/v1/models", handler(models), methods=["GET"]),
        Route("/v1/models/{model:path}", handler(model), methods=["GET"]),
        Route("/v1/chat/completions", handler(completions), methods=["POST"]),
        Route("/v1/embeddings", handler(embeddings), methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.add_exception_handler(404, lambda r, e: not_found(r))
    return app


def _embed(service: Any, texts: list[str]) -> Any:
    """On the owner thread: the default embedding model's vectors for ``texts``."""
    embedder = service.embedder.current()
    if embedder is None:
        from app.errors import ModelNotFoundError

        raise ModelNotFoundError(
            "No embedding model is installed; run scripts/setup.sh or import one with "
            "`lantern models import PATH`."
        )
    vectors = embedder.embed(texts)
    tokens = sum(embedder.count_tokens(t) for t in texts)
    yield vectors, tokens, Path(embedder.path).stem


def _encode(vector: Any, fmt: str) -> Any:
    v = np.asarray(vector, dtype=np.float32)
    return base64.b64encode(v.tobytes()).decode() if fmt == "base64" else v.tolist()
