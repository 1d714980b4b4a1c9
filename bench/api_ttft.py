"""Where the local API spends the time before the first token, and what the server
stack changes (issue 14: server-added TTFT goal <= 10 ms p95).

    python -m bench.api_ttft [--requests 10] [--rounds 2] [--only TEXT] [--baseline DIR]
                                                            # bench/results/api_ttft.json

Each configuration runs Lantern's API app (``app.api.server.create_app``) in a process
of its own under uvicorn, with timestamps (``time.perf_counter``: CLOCK_MONOTONIC,
shared by processes on Linux) at each hand-over: request handed over by uvicorn, parsed,
job on the owner thread, service turn started, question saved (an unsaved exchange
answered in memory, ``app.chat.unsaved_turn``: routed and its model picked, the model
ready), engine reply started, first text from the engine, on the owner thread, on the
event loop, SSE chunk yielded, written to the transport; the `openai` client in this
process notes when it sent the request and when the first content arrived
(``sent->asgi`` and ``written->client_first`` hold the client's own work and the
kernel's). The configurations' servers run side by side (each with its own LANTERN_HOME)
and requests alternate between them (A B C A B C), so the shared machine's load hits
each alike. ``SERVER_ADDED`` is the client's TTFT less the engine's own TTFT, as in
``bench.api``.

``--baseline DIR``: an older tree of Lantern (``git archive COMMIT | tar -x -C DIR``) runs
as one more configuration (the server stack of `lantern serve` now, that tree's app),
alternating with the others: the before/after of a change in one run, under one load.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "api_ttft.json"
MODEL = "SmolLM2-135M-Instruct"
CONFIGS: dict[str, dict[str, str]] = {
    "asyncio+h11, switch 5 ms (before)": {"B_LOOP": "asyncio", "B_HTTP": "h11"},
    "uvloop+httptools, switch 5 ms": {"B_LOOP": "uvloop", "B_HTTP": "httptools"},
    "uvloop+httptools, switch 1 ms (lantern serve now)": {
        "B_LOOP": "uvloop", "B_HTTP": "httptools", "B_SWITCH": "0.001",
    },
    "uvloop+httptools, switch 1 ms, libgomp's default spin (before app.openmp_env)": {
        "B_LOOP": "uvloop", "B_HTTP": "httptools", "B_SWITCH": "0.001",
        "GOMP_SPINCOUNT": "300000",
    },
}  # fmt: skip
NOW = "uvloop+httptools, switch 1 ms (lantern serve now)"
STEPS = [
    "sent", "asgi", "handler", "owner_run", "service_run", "prepared", "engine_reply",
    "engine_first_text", "owner_first_text", "loop_first_text", "loop_chunk", "written",
    "client_first",
]  # fmt: skip


def serve(port: int, marks_path: str) -> None:
    """The API app with timestamps at each hand-over, one JSON line per request."""
    import uvicorn

    from app.api import chat, server, worker
    from app.chat import service
    from app.engine import session
    from app.paths import get_paths

    out = open(marks_path, "a", buffering=1)  # noqa: SIM115 (open for the process's life)
    marks: dict[str, float] = {}

    def mark(key: str) -> None:
        marks.setdefault(key, time.perf_counter())

    parse = server._parse

    def timed_parse(*a: Any) -> Any:
        mark("handler")
        return parse(*a)

    run = worker.JobRunner.run

    def timed_run(self: Any, job: Any, svc: Any) -> None:
        mark("owner_run")
        work = job.work

        def timed_work(s: Any) -> Any:
            for event in work(s):
                if type(event).__name__ == "TextEvent":
                    mark("owner_first_text")
                yield event

        job.work = timed_work
        run(self, job, svc)

    service_run = service.ConversationService.run
    prepare = service.ConversationService._prepare
    try:  # an unsaved exchange answered in memory (not in a tree before 0a2de59)
        from app.chat import unsaved_turn
    except ImportError:
        unsaved_turn = None  # type: ignore[assignment]

    def timed_prepare(self: Any, *a: Any) -> Any:
        turn = yield from prepare(self, *a)
        mark("prepared")  # question saved, model ready: what is left is the answer's row,
        return turn  # settings, history, grounding and the KV cache

    def timed_service_run(self: Any, request: Any) -> Any:
        mark("service_run")
        yield from service_run(self, request)

    if unsaved_turn is not None:  # the requests here are unsaved: no stored turn runs
        unsaved_answer = unsaved_turn.answer
        model_session = service.ConversationService.model_session

        def timed_unsaved_answer(*a: Any) -> Any:
            mark("service_run")  # routed and its model picked, in memory (no rows)
            yield from unsaved_answer(*a)

        def timed_model_session(*a: Any) -> Any:
            got = yield from model_session(*a)
            mark("prepared")  # the model ready: what is left is settings, history, KV
            return got

        unsaved_turn.answer = timed_unsaved_answer  # type: ignore[assignment]
        service.ConversationService.model_session = timed_model_session  # type: ignore[method-assign]

    reply = session.ChatSession.reply

    def timed_reply(self: Any, *a: Any, **k: Any) -> Any:
        mark("engine_reply")
        for event in reply(self, *a, **k):
            name = type(event).__name__
            if name == "TextEvent":
                mark("engine_first_text")
            elif name == "ReplyStats":
                marks["engine_ttft"] = event.ttft_s
            yield event

    nxt = chat._next

    async def timed_next(job: Any) -> Any:
        item = await nxt(job)
        if type(item).__name__ == "TextEvent":
            mark("loop_first_text")
        if item is worker.DONE:
            out.write(json.dumps(marks) + "\n")
        return item

    events = chat._events

    async def timed_events(*a: Any) -> Any:
        async for text in events(*a):
            if '"content": "' in text.replace('"content": ""', ""):
                mark("loop_chunk")
            yield text

    server._parse = timed_parse  # type: ignore[assignment]
    worker.JobRunner.run = timed_run  # type: ignore[method-assign]
    service.ConversationService.run = timed_service_run  # type: ignore[method-assign]
    service.ConversationService._prepare = timed_prepare  # type: ignore[assignment,method-assign]
    session.ChatSession.reply = timed_reply  # type: ignore[method-assign]
    chat._next = timed_next
    chat._events = timed_events  # type: ignore[assignment]
    if os.environ.get("B_SWITCH"):
        sys.setswitchinterval(float(os.environ["B_SWITCH"]))
    # freeze_gc: as `lantern serve` (app.commands.serve), full collections skip what
    # was alive at start
    app = server.create_app(server.ServerConfig(db_path=get_paths().db, freeze_gc=True))

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        """``asgi``: uvicorn hands the request over; ``written``: the first content chunk
        went to uvicorn's transport (what follows is the kernel and the client)."""
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            return await app(scope, receive, send)
        marks.clear()
        mark("asgi")

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and "loop_chunk" in marks:
                mark("written")

        await app(scope, receive, timed_send)

    config = uvicorn.Config(
        asgi, host="127.0.0.1", port=port, log_level="warning",
        loop=os.environ.get("B_LOOP", "auto"), http=os.environ.get("B_HTTP", "auto"),
    )  # fmt: skip
    uvicorn.Server(config).run()


class _Server:
    """A server of the app in ``root`` (this tree or a baseline) run by this file's
    ``serve`` with the stack of configuration ``name``, its own LANTERN_HOME, and the
    `openai` client that streams to it."""

    def __init__(self, env: dict[str, str], home: Path, name: str, root: Path, port: int) -> None:
        from openai import OpenAI

        home.mkdir(parents=True, exist_ok=True)
        env = {**env, **CONFIGS.get(name, CONFIGS[NOW]), "LANTERN_HOME": str(home),
               "PYTHONPATH": str(root)}  # fmt: skip
        subprocess.run([sys.executable, "-m", "app", "models", "list"], cwd=root, env=env,
                       check=True, capture_output=True)  # fmt: skip
        self.port = port
        self.marks = home / "marks.jsonl"
        self.marks.unlink(missing_ok=True)
        self.sent: list[tuple[float, float]] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), str(self.marks)],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)
        self.client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)

    def ask(self, i: int, raw: bool = False) -> None:
        if raw:
            self.sent.append(self._raw(i))
            return
        started, first = time.perf_counter(), 0.0
        for chunk in self.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"Tell me about owls ({i})."}],
            max_tokens=3, temperature=0, stream=True,
        ):  # fmt: skip
            if chunk.choices and chunk.choices[0].delta.content and not first:
                first = time.perf_counter()
        self.sent.append((started, first))

    def _raw(self, i: int) -> tuple[float, float]:
        """The same request from a bare socket (no client library; a new connection each
        time): the server's share without the `openai` package's own work."""
        import re
        import socket

        body = json.dumps({
            "model": MODEL, "messages": [{"role": "user", "content": f"Tell me about owls ({i})."}],
            "max_tokens": 3, "temperature": 0, "stream": True,
        }).encode()  # fmt: skip
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            started, first, got = time.perf_counter(), 0.0, b""
            sock.sendall(head.encode() + body)
            while b"data: [DONE]" not in got:
                data = sock.recv(65536)
                if not data:
                    break
                got += data
                if not first and re.search(rb'"content": "[^"]', got):
                    first = time.perf_counter()
        return started, first

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def rows(self) -> list[dict[str, Any]]:
        """Each request's hand-overs in ms, the first (it loaded the model) left out."""
        lines = self.marks.read_text().splitlines()
        rows = []
        for (started, first), line in list(zip(self.sent, lines, strict=True))[1:]:
            t = json.loads(line)
            t["sent"], t["client_first"] = started, first
            row = {f"{a}->{b}": (t[b] - t[a]) * 1000 for a, b in itertools.pairwise(STEPS)}
            row["SERVER_ADDED"] = ((first - started) - t["engine_ttft"]) * 1000
            rows.append(row)
        return rows


def _round(
    env: dict[str, str], home: Path, roots: dict[str, Path], requests: int, n: int, raw: bool
) -> dict[str, list[dict[str, Any]]]:
    """One server per configuration, all started; each request goes to each in turn."""
    servers: dict[str, _Server] = {}
    try:
        for k, (name, root) in enumerate(roots.items()):
            port = 18700 + (os.getpid() + k) % 200
            servers[name] = _Server(env, home / f"r{n}-{k}", name, root, port)
        for i in range(requests + 1):  # the first loads the model
            for server in servers.values():
                server.ask(i, raw)
        time.sleep(0.5)
    finally:
        for server in servers.values():
            server.stop()
    return {name: server.rows() for name, server in servers.items()}


def _summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in rows[0]:
        if key == "engine_reply->engine_first_text":
            continue  # the model's own work
        values = sorted(r[key] for r in rows)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        out[key] = {"p50": round(statistics.median(values), 2), "p95": round(p95, 2)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", metavar="TEXT", help="only the configurations named with TEXT")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="an older tree of Lantern to compare (the stack of lantern serve now)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--raw",
        action="store_true",
        help="a bare socket as the client instead of the openai package",
    )
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "MARKS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "LANTERN_THREADS": "2"}
        roots = {n: ROOT for n in CONFIGS if not args.only or args.only in n}
        if args.baseline:
            roots[f"baseline {args.baseline} (stack of lantern serve now)"] = args.baseline
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
        for n in range(args.rounds):
            for name, got in _round(env, home, roots, args.requests, n, args.raw).items():
                rows[name] += got
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} CPUs shared with other work",
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "requests_per_config": args.requests * args.rounds,
        "client": "bare socket" if args.raw else "openai",
        "model": "SmolLM2-135M-Instruct Q4_1, 2 threads, greedy, 3 tokens",
        "configs": {name: _summary(r) for name, r in rows.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    for name, summary in results["configs"].items():
        print(f"{name}: SERVER_ADDED {summary['SERVER_ADDED']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
