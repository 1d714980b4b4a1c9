"""Local API benchmark: what the server adds between the engine and an OpenAI client.

    python -m bench.api [--requests 20] [--max-tokens 64]   # writes bench/results/api.json

`lantern serve` runs in its own process (private LANTERN_HOME, SmolLM2, 2 threads,
greedy); the official `openai` client streams each request. The final chunk's
non-standard ``lantern.engine`` object carries the engine's own figures for that answer.
- throughput ratio: the client's streamed tokens/s (completion tokens ÷ first-to-last
  content chunk) ÷ the engine's tokens/s for the same answer (goal ≥ 0.95);
- server-added TTFT: the client's time to the first content chunk minus the engine's
  TTFT (routing, queueing, HTTP and SSE; an unsaved exchange, as here, writes nothing to
  the database; goal ≤ 10 ms p95), three ways: as the client sees it
  (``server_added_ttft_ms``: this also holds the `openai` package's own work, building
  the request and parsing the events); as the server measures it
  (``server_side_added_ttft_ms``: the final chunk's ``lantern.server.ttft_s``, from the
  request reaching the app to its first text on the socket, less the engine's TTFT); and
  over a null server (``added_over_null_ms``: the client's view less the same client's
  TTFT against a server that answers at once, asked in the same round).
Side by side, in the same run (each prompt to each server in turn): the same requests
against `python -m llama_cpp.server` (started by tests/fixtures/llama_cpp_server.py, which
turns off llama.cpp's AMX buffers as Lantern's engine does: the plain server segfaults on
this CPU) and, where build/native-llama/bin/llama-server exists (git-ignored, not in CI),
the native llama.cpp server; the client's TTFT and tokens/s for each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "api.json"
PROMPTS = [f"Tell me about {t} in a few sentences." for t in (
    "lighthouses", "tides", "owls", "bread", "comets", "kites", "tea", "salt", "canals", "paper",
)]  # fmt: skip


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LANTERN_HOME": str(home), "HF_HUB_OFFLINE": "1", "LANTERN_THREADS": "2",
                "PYTHONUNBUFFERED": "1"})  # fmt: skip
    return env


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _start_native(model: Path, log: Path) -> tuple[str, subprocess.Popen[bytes]] | str:
    """The native ``llama-server`` of build/native-llama (git-ignored, made by hand), or
    why it is not measured."""
    from tests.fixtures.llama_cpp_server import free_port, stop_llama_cpp_server

    binary = ROOT / "build" / "native-llama" / "bin" / "llama-server"
    if not binary.exists():
        return f"skipped: {binary.relative_to(ROOT)} is not built here (it is not in CI)"
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
         "-c", "4096", "-t", "2", "--no-repack"],  # --no-repack: AMX, as Lantern's engine
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"failed: llama-server exited with {proc.returncode} (log {log})"
        try:
            urllib.request.urlopen(base + "/models", timeout=5).close()
            return base, proc
        except OSError:
            time.sleep(0.3)
    stop_llama_cpp_server(proc)
    return "failed: llama-server did not answer in 120 s"


def _stream(client: Any, model: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    """One streamed request: the client's TTFT and tokens/s, Lantern's engine figures."""
    started = time.perf_counter()
    first = last = 0.0
    pieces = usage = 0
    engine: dict[str, Any] = {}
    server: dict[str, Any] = {}
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens, temperature=0, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    for chunk in stream:
        now = time.perf_counter()
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or now
            last = now
            pieces += 1
        if chunk.usage:
            usage = chunk.usage.completion_tokens
        extra = (chunk.model_extra or {}).get("lantern")
        if extra:
            engine = extra.get("engine") or {}
            server = extra.get("server") or {}
    tokens = usage or pieces
    span = last - first
    row: dict[str, Any] = {
        "completion_tokens": tokens,
        "client_ttft_ms": round((first - started) * 1000, 3),
        # n tokens arrive over n-1 gaps after the first: engines count them the same way
        "client_tokens_per_s": round((tokens - 1) / span, 3) if span > 0 else 0.0,
    }
    if engine:
        row["engine_ttft_ms"] = round(engine["ttft_s"] * 1000, 3)
        row["server_added_ttft_ms"] = round((first - started - engine["ttft_s"]) * 1000, 3)
        row["engine_tokens_per_s"] = round(engine["tokens_per_s"], 3)
        if server:
            added = server["ttft_s"] - engine["ttft_s"]
            row["server_side_added_ttft_ms"] = round(added * 1000, 3)
    return row


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": len(rows)}
    keys = ("client_ttft_ms", "client_tokens_per_s", "server_added_ttft_ms",
            "server_side_added_ttft_ms", "added_over_null_ms")  # fmt: skip
    for key in keys:
        values = [r[key] for r in rows if key in r]
        if values:
            out[f"{key}_p50"] = round(statistics.median(values), 2)
            out[f"{key}_p95"] = round(_p95(values), 2)
    ratios = [r["client_tokens_per_s"] / r["engine_tokens_per_s"] for r in rows
              if r.get("engine_tokens_per_s")]  # fmt: skip
    if ratios:
        out["throughput_ratio_median"] = round(statistics.median(ratios), 4)
        out["throughput_ratio_min"] = round(min(ratios), 4)
    out["rows"] = rows
    return out


def run(requests: int, max_tokens: int, native: bool = True) -> dict[str, Any]:
    """Lantern, llama_cpp.server and (where built) the native llama-server, started
    together; each prompt goes to each in turn, so load changes hit all alike."""
    sys.path.insert(0, str(ROOT))
    from openai import OpenAI

    from tests.api.conftest import start_server, stop_server
    from tests.fixtures.llama_cpp_server import start_llama_cpp_server, stop_llama_cpp_server
    from tests.fixtures.models import smollm2_path

    model = smollm2_path()
    targets: dict[str, tuple[Any, str]] = {}  # name -> (client, model field)
    status: dict[str, str] = {}
    procs: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        served = start_server(Path(tmp))
        try:
            targets["lantern_serve"] = (_client(OpenAI, served.base_url), "SmolLM2-135M-Instruct")
            try:
                base, proc = start_llama_cpp_server(
                    model, n_ctx=4096, log_path=Path(tmp) / "llama_cpp_server.log"
                )
                procs.append(proc)
                targets["llama_cpp_server"] = (_client(OpenAI, base), "x")
            except RuntimeError as exc:
                status["llama_cpp_server"] = f"failed: {exc}"
            started = (
                _start_native(model, Path(tmp) / "llama_server.log")
                if native
                else "skipped: --no-native (at load ~17 on 2 cores it took ~140 s a request)"
            )
            if isinstance(started, str):
                status["native_llama_server"] = started
            else:
                procs.append(started[1])
                targets["native_llama_server"] = (_client(OpenAI, started[0]), "x")
            null_base, null_proc = _start_null_server()
            procs.append(null_proc)
            targets["null_server"] = (_client(OpenAI, null_base), "x")
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
            for i in range(requests + 1):  # the first request of each warms it up
                for name, (client, field) in targets.items():
                    try:
                        row = _stream(client, field, PROMPTS[i % len(PROMPTS)], max_tokens)
                    except Exception as exc:  # a server that dies is reported, not fatal
                        status[name] = f"failed: {type(exc).__name__}: {exc}"
                        continue
                    if i:
                        rows[name].append(row)
                lantern, null = rows.get("lantern_serve"), rows["null_server"]
                if i and lantern and null and "server_added_ttft_ms" in lantern[-1]:
                    floor = null[-1]["client_ttft_ms"]  # this round's: the same load
                    added = lantern[-1]["server_added_ttft_ms"] - floor
                    lantern[-1]["added_over_null_ms"] = round(added, 3)
        finally:
            stop_server(served)
            for proc in procs:
                stop_llama_cpp_server(proc)
    out: dict[str, Any] = {}
    for name in ("lantern_serve", "llama_cpp_server", "native_llama_server", "null_server"):
        out[name] = {"status": status.get(name, "measured")}
        if rows_of := (rows.get(name) if name in targets else None):
            out[name].update(_summary(rows_of))
    return out


NULL_EVENTS = "".join(
    f"data: {json.dumps(body)}\n\n"
    for body in (
        {"id": "null", "object": "chat.completion.chunk", "created": 0, "model": "x",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"},
                      "finish_reason": None}]},
        {"id": "null", "object": "chat.completion.chunk", "created": 0, "model": "x",
         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
    )
) + "data: [DONE]\n\n"  # fmt: skip


def null_server(port: int) -> None:
    """A server that answers every request at once with one canned streamed chunk (plain
    asyncio, no HTTP library): what the `openai` client costs by itself."""
    import asyncio

    body = NULL_EVENTS.encode()
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while headers := await reader.readuntil(b"\r\n\r\n"):
                length = 0
                for line in headers.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                writer.write(head + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()  # the client closed its connection

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _start_null_server() -> tuple[str, subprocess.Popen[bytes]]:
    from tests.fixtures.llama_cpp_server import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.api", "--null-server", str(port)],
                            cwd=ROOT)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}/v1", proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the null server did not start")


def _client(cls: Any, base_url: str) -> Any:
    return cls(base_url=base_url, api_key="x", max_retries=0, timeout=300)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument(
        "--no-native", action="store_true", help="leave out the native llama-server"
    )
    parser.add_argument("--null-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.null_server:
        null_server(args.null_server)
        return 0
    load_before = os.getloadavg()
    measured = run(args.requests, args.max_tokens, native=not args.no_native)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other work)",
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "model": "SmolLM2-135M-Instruct Q4_1, 2 threads, n_ctx 4096, greedy",
        "max_tokens": args.max_tokens,
        **measured,
        "goals": {"throughput_ratio": ">= 0.95", "server_added_ttft_ms_p95": "<= 10"},
        "how": __doc__,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    summary = {k: {f: v for f, v in m.items() if f != "rows"} for k, m in measured.items()}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
