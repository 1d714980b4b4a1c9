"""Lantern vs native llama.cpp (issue 12): TTFT against ``llama-server`` with
``cache_prompt`` and decode speed against ``llama-bench``, in one run.

    python -m bench.engine --only native     # merges "native" into bench/results/engine.json

The native binaries come from the llama.cpp sources vendored in the pinned
llama-cpp-python sdist (``build/native-build.sh`` builds them into ``build/native-llama``;
``build/`` is git-ignored and CI never builds it). Without them this section is skipped
with a note saying so.

TTFT: the same conversation is driven through Lantern's ``ConversationService`` (as the
window and ``lantern ask`` run a turn: question saved, history read from SQLite, routing,
KV cache restore, reply streamed and saved) and through ``llama-server``'s streamed
``/v1/chat/completions`` with ``cache_prompt`` (time from sending the request to the first
chunk with visible content, on a kept-alive connection). Before each server request the
server's slot is given exactly the tokens Lantern's KV cache holds at that moment (a
``/completion`` with the token ids and ``n_predict`` 1, outside the measured time), so both
start from the same cached prefix and evaluate the same new tokens (checked: the server's
``timings.prompt_n`` and Lantern's ``evaluated_prompt_tokens`` are both recorded). Turn 1:
new conversations; turn 20: the 20th question of the first of them, after 19 real
exchanges; later repetitions edit that question (the window's "edit"), so the history
stays the same. Lantern and the server alternate, and which goes first alternates too.
Both run SmolLM2-135M Q4_1 with the same threads, context (4096), batch (512), greedy
sampling, one sequence/slot and, on a CPU with AMX, without the extra CPU buffer types
(``--no-repack``; Lantern sets ``use_extra_bufts = False``).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NATIVE_BIN = ROOT / "build" / "native-llama" / "bin"
N_CTX = 4096
N_BATCH = 512
PROBES = [
    "What is the boiling point of water at sea level?",
    "Name a famous painting by Vincent van Gogh.",
    "How many legs does a spider have?",
    "Which planet is closest to the sun?",
    "What colour do you get by mixing blue and yellow?",
]
TOPICS = [
    "the water cycle", "volcanoes", "photosynthesis", "the moon", "honey bees", "glaciers",
    "the printing press", "rainbows", "tides", "coral reefs", "the compass", "owls",
    "electricity", "deserts", "the violin", "penguins", "earthquakes", "comets", "bread",
]  # fmt: skip


def native_missing() -> str | None:
    """Why the native comparison cannot run here, or None."""
    for name in ("llama-server", "llama-bench"):
        if not (NATIVE_BIN / name).is_file():
            return (
                f"{NATIVE_BIN / name} is absent: build it with build/native-build.sh (the "
                "llama.cpp vendored in the pinned llama-cpp-python sdist); CI does not"
            )
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _native_args(threads: int) -> list[str]:
    from app.engine.llama_model import cpu_has_amx

    args = ["-t", str(threads), "-tb", str(threads)]
    return [*args, "--no-repack"] if cpu_has_amx() else args


class NativeServer:
    """``llama-server`` on 127.0.0.1 with Lantern's settings, one slot, prompt caching."""

    def __init__(self, model: Path, threads: int, log_path: Path) -> None:
        self.port = _free_port()
        self.args = [
            str(NATIVE_BIN / "llama-server"), "-m", str(model), "-c", str(N_CTX),
            "-b", str(N_BATCH), "-ub", str(N_BATCH), "-np", "1", "--swa-full",
            "--cache-prompt", "--no-webui", "--host", "127.0.0.1", "--port", str(self.port),
            *_native_args(threads),
        ]  # fmt: skip
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited {self.proc.returncode}; see {log_path}")
            try:
                status, _ = self._request("GET", "/health")
                if status == 200:
                    return
            except OSError:
                self.conn.close()
            time.sleep(0.5)
        raise RuntimeError("llama-server did not become healthy in 300 s")

    def _fresh(self) -> None:
        """A new connection, opened outside any measured time (the server may close a
        kept-alive one after a streamed answer or 5 s idle)."""
        self.conn.close()
        self.conn.connect()

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        self._fresh()
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)

    def prime(self, tokens: list[int]) -> dict[str, Any]:
        """Make the slot hold ``tokens`` (plus the one token it samples)."""
        status, body = self._request(
            "POST",
            "/completion",
            {"prompt": tokens, "n_predict": 1, "cache_prompt": True, "temperature": 0.0},
        )
        if status != 200:
            raise RuntimeError(f"llama-server /completion answered {status}: {body}")
        return dict(body.get("timings") or {})

    def chat_ttft(self, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
        """Stream a chat completion; seconds to the first chunk with visible text."""
        body = json.dumps(
            {
                "messages": messages, "stream": True, "max_tokens": max_tokens,
                "temperature": 0.0, "cache_prompt": True,
            }
        ).encode()  # fmt: skip
        self._fresh()
        started = time.perf_counter()
        self.conn.request(
            "POST", "/v1/chat/completions", body=body,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        resp = self.conn.getresponse()
        ttft = 0.0
        timings: dict[str, Any] = {}
        text = ""
        while True:
            line = resp.readline()
            if not line:
                break
            if not line.startswith(b"data: "):
                continue
            payload = line[6:].strip()
            if payload == b"[DONE]":
                break
            chunk = json.loads(payload)
            for choice in chunk.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece and not ttft and (text + piece).strip():
                    ttft = time.perf_counter() - started
                text += piece
            timings = chunk.get("timings") or timings
        resp.read()
        return {"ttft_s": ttft, "timings": timings, "text": text}

    def close(self) -> None:
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class LanternSide:
    """A real store and ``ConversationService`` with the starter model (SmolLM2)."""

    def __init__(self, threads: int) -> None:
        os.environ["LANTERN_HOME"] = tempfile.mkdtemp(prefix="lantern-native-bench-")
        from app.chat.service import ConversationService
        from app.models.registry import ensure_starter
        from app.paths import get_paths
        from app.store.db import open_db
        from app.store.settings import set_setting

        self.db = open_db(get_paths().ensure().db)
        ensure_starter(self.db)
        set_setting(self.db, "chat.context_length", N_CTX)
        set_setting(self.db, "chat.threads", threads)
        set_setting(self.db, "chat.temperature", 0.0)
        self.service = ConversationService(self.db)
        self.service.load_model()

    @property
    def session(self) -> Any:
        return self.service.pool.session

    def cached_tokens(self) -> list[int]:
        return self.session.cached_token_ids()

    def turn(self, request: Any) -> dict[str, Any]:
        """Run a turn; its TTFT from ``run()`` to the first text event, and its stats."""
        from app.chat.types import TurnResult, TurnStarted
        from app.engine.types import TextEvent

        started = time.perf_counter()
        ttft = 0.0
        result: Any = None
        question_id = 0
        for event in self.service.run(request):
            if isinstance(event, TextEvent) and not ttft:
                ttft = time.perf_counter() - started
            elif isinstance(event, TurnStarted):
                question_id = event.question_id
            elif isinstance(event, TurnResult):
                result = event
        return {"ttft_s": ttft, "result": result, "question_id": question_id}

    def messages(self, question_id: int) -> list[dict[str, str]]:
        history = self.service.messages_for(question_id)
        return [{"role": m.role, "content": m.content} for m in history.messages]

    def close(self) -> None:
        self.service.close()
        self.db.conn.close()


def _measure(
    lantern: LanternSide,
    server: NativeServer,
    request: Any,
    messages: list[dict[str, str]],
    server_first: bool,
    max_tokens: int,
) -> dict[str, Any]:
    """One repetition: the same turn through Lantern and through the server."""
    cached = lantern.cached_tokens()  # the server's slot gets the same prefix
    out: dict[str, Any] = {"server_first": server_first}

    def native() -> None:
        server.prime(cached) if cached else None
        reply = server.chat_ttft(messages, max_tokens)
        t = reply["timings"]
        out["native_ttft_s"] = reply["ttft_s"]
        out["native_prompt_ms"] = t.get("prompt_ms")
        out["native_evaluated"] = t.get("prompt_n")
        out["native_cached"] = t.get("cache_n")

    def ours() -> None:
        turn = lantern.turn(request)
        stats = turn["result"].stats
        out["lantern_ttft_s"] = turn["ttft_s"]
        out["lantern_prompt_ms"] = stats.llama_prompt_eval_ms
        out["lantern_evaluated"] = stats.evaluated_prompt_tokens
        out["lantern_prompt_tokens"] = stats.prompt_tokens
        out["lantern_engine_ttft_s"] = stats.ttft_s
        out["question_id"] = turn["question_id"]
        out["answer_id"] = turn["result"].message["id"]
        out["conversation_id"] = turn["result"].conversation_id

    for step in (native, ours) if server_first else (ours, native):
        step()
    out["same_messages"] = lantern.messages(out["question_id"]) == messages
    out["ratio"] = out["lantern_ttft_s"] / out["native_ttft_s"]
    return out


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    lantern, native = med("lantern_ttft_s"), med("native_ttft_s")
    # Work before the first token outside llama.cpp's prompt evaluation (ms).
    ours_fixed = [r["lantern_ttft_s"] * 1000 - r["lantern_prompt_ms"] for r in runs]
    theirs_fixed = [r["native_ttft_s"] * 1000 - (r["native_prompt_ms"] or 0.0) for r in runs]
    return {
        "lantern_ttft_ms": round(lantern * 1000, 1),
        "native_ttft_ms": round(native * 1000, 1),
        "ratio": round(lantern / native, 3),
        "ratio_of_pairs_median": round(med("ratio"), 3),
        "lantern_outside_prompt_eval_ms": round(statistics.median(ours_fixed), 1),
        "native_outside_prompt_eval_ms": round(statistics.median(theirs_fixed), 1),
        "lantern_evaluated": [r["lantern_evaluated"] for r in runs],
        "native_evaluated": [r["native_evaluated"] for r in runs],
        "prompt_tokens": [r["lantern_prompt_tokens"] for r in runs],
        "same_messages": all(r["same_messages"] for r in runs),
        "runs": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in runs
        ],
    }


def bench_native_ttft(threads: int, reps: int = 5, turns: int = 20) -> dict[str, Any]:
    """TTFT at turn 1 and at turn ``turns`` of one conversation: Lantern vs llama-server."""
    from app.chat.types import TurnRequest
    from tests.fixtures.models import smollm2_path

    probe_tokens = 8
    home_logs = Path(tempfile.mkdtemp(prefix="lantern-native-server-"))
    server = NativeServer(smollm2_path(), threads, home_logs / "llama-server.log")
    lantern = LanternSide(threads)
    try:
        # warm-up of both (first decode after a load allocates graphs)
        lantern.turn(TurnRequest("send", text="Hello!", max_tokens=4))
        server.chat_ttft([{"role": "user", "content": "Hello!"}], 4)
        system = lantern.messages(
            lantern.turn(TurnRequest("send", text="Hi.", max_tokens=2))["question_id"]
        )[:-1]
        first: list[dict[str, Any]] = []
        for r in range(reps):
            question = PROBES[r % len(PROBES)]
            request = TurnRequest("send", text=question, max_tokens=probe_tokens)
            messages = [*system, {"role": "user", "content": question}]
            first.append(_measure(lantern, server, request, messages, r % 2 == 1, probe_tokens))
        conv = first[0]["conversation_id"]
        last_question = first[0]["question_id"]
        for i in range(1, turns - 1):  # turns 2..19: real answers, not measured
            topic = TOPICS[i % len(TOPICS)]
            turn = lantern.turn(
                TurnRequest("send", conv, text=f"Explain {topic} in detail.", max_tokens=128)
            )
            last_question = turn["question_id"]
        last_answer = turn["result"].message
        history = [
            *lantern.messages(last_question),
            {"role": "assistant", "content": last_answer["content"]},
        ]
        later: list[dict[str, Any]] = []
        target = None
        for r in range(reps):
            question = PROBES[r % len(PROBES)]
            if target is None:
                request = TurnRequest("send", conv, text=question, max_tokens=probe_tokens)
            else:  # the same history, another question: the window's "edit"
                request = TurnRequest(
                    "edit", text=question, target_id=target, max_tokens=probe_tokens
                )
            messages = [*history, {"role": "user", "content": question}]
            later.append(_measure(lantern, server, request, messages, r % 2 == 1, probe_tokens))
            target = later[-1]["question_id"]
    finally:
        lantern.close()
        server.close()
    t1, tn = _summary(first), _summary(later)
    return {
        "server_args": " ".join(Path(a).name if "/" in a else a for a in server.args),
        "turn1": t1,
        f"turn{turns}": tn,
        "ttft_ratio_turn1": t1["ratio"],
        f"ttft_ratio_turn{turns}": tn["ratio"],
    }


def bench_llama_bench(threads: int, reps: int = 3) -> dict[str, Any]:
    """``llama-bench`` tg128 (its own process) vs Lantern's consumer tokens/s, alternating."""
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
    from tests.fixtures.models import smollm2_path

    model = smollm2_path()
    from app.engine.llama_model import cpu_has_amx

    args = [str(NATIVE_BIN / "llama-bench"), "-m", str(model), "-p", "0", "-n", "128",
            "-r", "1", "-o", "json", "-t", str(threads),
            *(["--repack", "0"] if cpu_has_amx() else [])]  # fmt: skip
    session = ChatSession.load(
        model, LoadOptions(n_ctx=2048, n_threads=threads, n_threads_batch=threads)
    )
    native: list[float] = []
    ours: list[float] = []
    story = [ChatMessage("user", "Write a long story about a dragon who learns to bake bread.")]
    try:
        for r in range(reps):
            proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
            native.append(float(json.loads(proc.stdout)[0]["avg_ts"]))
            session.forget()
            sampling = SamplingOptions(temperature=0.0, max_tokens=128, seed=r)
            for event in session.reply(story, sampling):
                if isinstance(event, ReplyStats):
                    ours.append(event.tokens_per_s)
    finally:
        session.close()
    return {
        "llama_bench_tg128_tps": round(statistics.median(native), 2),
        "llama_bench_samples_tps": [round(x, 2) for x in native],
        "lantern_consumer_tps": round(statistics.median(ours), 2),
        "lantern_samples_tps": [round(x, 2) for x in ours],
        "consumer_tps_over_llama_bench": round(
            statistics.median(ours) / statistics.median(native), 3
        ),
        "llama_bench_args": " ".join(args[3:]),
    }


def bench_native(threads: int, reps: int = 5) -> dict[str, Any]:
    """The "native" section of bench/results/engine.json."""
    missing = native_missing()
    if missing is not None:
        return {"skipped": missing}
    load = os.getloadavg()[0]
    result: dict[str, Any] = {"threads": threads, "ttft": bench_native_ttft(threads, reps)}
    try:
        result.update(bench_llama_bench(threads))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
        stderr = getattr(exc, "stderr", "") or ""
        result["llama_bench_error"] = f"{exc} {stderr[-300:]}".strip()
    result["loadavg_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    result["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return result
