"""Specialists benchmark: routing overhead and accuracy, escalation, LoRA swaps.

    python -m bench.route          # writes bench/results/route.json, prints a summary

(a) Routing overhead: ``Router.route`` (rules + semantic with MiniLM loaded, vectors of
    the specialists' descriptions and examples cached) per message of
    ``bench/data/route_messages.json``, 3 passes; p50 / p95 / max in ms. Goal p95 <= 20 ms.
(b) Routing accuracy on the same labelled messages (65, written as users write, over the
    four example specialists): rules only, semantic only, both. Goal >= 0.85 for both.
(c) Escalation on ``bench/data/escalation_questions.json`` (short factual answers, exact
    match = the expected answer appears in the answer): SmolLM2 alone, SmolLM2 escalating
    to Gemma 3 270M under a confidence threshold, and Gemma always ("always-big"), through
    the conversation service (greedy, up to 24 tokens). Reports the escalation rate, the
    big-model answers avoided, and the cloud cost avoided at the comparison price. The
    same low-confidence answers are also escalated to a remote server: the same Gemma
    file served by `python -m llama_cpp.server` on 127.0.0.1
    (``tests.fixtures.llama_cpp_server``, with Lantern's plain prompt format for a model
    without a chat template), through ``remote:gemma-server``.
(d) LoRA: apply and remove a rank-8 adapter on all 30 layers of SmolLM2 (plus the first
    reply after it, which re-evaluates the prompt) vs a full model reload.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "route.json"
DATA = ROOT / "bench" / "data"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def routing(db: Any, embedder: Any) -> dict[str, Any]:
    from app.chat.router import Router

    messages = json.loads((DATA / "route_messages.json").read_text())["messages"]
    router = Router(db, lambda: embedder)
    router.route("warm up the specialist vectors")
    times: list[float] = []
    for _ in range(3):
        for m in messages:
            start = time.perf_counter()
            router.route(m["text"], attachments=m.get("attachments", ()),
                         documents=m.get("documents", False))  # fmt: skip
            times.append((time.perf_counter() - start) * 1000)
    accuracy: dict[str, float] = {}
    misses: list[dict[str, str]] = []
    for mode, rules, semantic in (("rules_only", True, False), ("semantic_only", False, True),
                                  ("both", True, True)):  # fmt: skip
        ok = 0
        for m in messages:
            d = router.route(m["text"], attachments=m.get("attachments", ()),
                             documents=m.get("documents", False), use_rules=rules,
                             use_semantic=semantic)  # fmt: skip
            ok += d.name == m["label"]
            if mode == "both" and d.name != m["label"]:
                misses.append({"text": m["text"][:80], "label": m["label"], "got": d.reason})
        accuracy[mode] = round(ok / len(messages), 3)
    return {
        "messages": len(messages),
        "overhead_ms": {
            "p50": round(_pct(times, 0.5), 2),
            "p95": round(_pct(times, 0.95), 2),
            "max": round(max(times), 2),
            "goal_p95": 20.0,
        },
        "accuracy": {**accuracy, "goal_both": 0.85},
        "misses_both": misses,
    }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower())


def _correct(answer: str, item: dict[str, Any]) -> bool:
    said = f" {' '.join(_norm(answer).split())} "
    return any(f" {_norm(a).strip()} " in said for a in [item["a"], *item.get("accept", [])])


def escalation(home: Path, gemma: Path, threshold: float) -> dict[str, Any]:
    from tests.fixtures.llama_cpp_server import start_llama_cpp_server, stop_llama_cpp_server

    base, server = start_llama_cpp_server(
        gemma, "--model_alias", "gemma-3-270m", "--chat_format", "lantern-plain",
        n_ctx=1024, n_threads=2, log_path=home / "llama-cpp-server.log",
    )  # fmt: skip
    try:
        return _escalation(home, gemma, threshold, base)
    finally:
        stop_llama_cpp_server(server)


def _escalation(home: Path, gemma: Path, threshold: float, remote_url: str) -> dict[str, Any]:
    from app.chat import costs
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest, TurnResult
    from app.models.registry import ensure_starter, register_file
    from app.store import specialists as store
    from app.store.db import open_db
    from app.store.remote_endpoints import add_endpoint
    from app.store.settings import set_setting

    questions = json.loads((DATA / "escalation_questions.json").read_text())["questions"]
    db = open_db(home / "bench.db")
    ensure_starter(db)
    big = register_file(db, gemma, name="gemma-3-270m")["name"]
    for key, value in (("chat.context_length", 1024), ("chat.temperature", 0.0),
                       ("chat.max_tokens", 24), ("chat.threads", 2)):  # fmt: skip
        set_setting(db, key, value)
    store.save_specialist(db, name="Facts", description="short facts", fallback=big,
                          threshold=threshold, system_prompt="Answer in a few words.")  # fmt: skip
    add_endpoint(db, "gemma-server", remote_url, "gemma-3-270m", timeout_s=600, stream=False)
    price = costs.comparison_price(db)
    service = ConversationService(db)
    rows: list[dict[str, Any]] = []
    try:
        for item in questions:
            events = list(service.run(TurnRequest("send", text="@Facts " + item["q"])))
            results = [e for e in events if isinstance(e, TurnResult)]
            small = results[0].message
            final = results[-1].message
            remote = None
            if len(results) > 1:  # the same low-confidence answer, escalated to the server
                store.save_specialist(db, "Facts", fallback="remote:gemma-server",
                                      allow_remote=True)  # fmt: skip
                request = TurnRequest("regenerate", target_id=small["id"], escalate=True)
                (remote,) = [e.message for e in service.run(request) if isinstance(e, TurnResult)]
                store.save_specialist(db, "Facts", fallback=big)
            (always,) = [
                e for e in service.run(TurnRequest("send", text=item["q"], model=big))
                if isinstance(e, TurnResult)
            ]  # fmt: skip
            rows.append({
                "q": item["q"],
                "confidence": small["confidence"],
                "escalated": len(results) > 1,
                "small": small["content"][:60],
                "small_ok": _correct(small["content"], item),
                "escalated_ok": _correct(final["content"], item),
                "big": always.message["content"][:60],
                "big_ok": _correct(always.message["content"], item),
                "cost_small": costs.answer_cost(small, price) or 0.0,
                "cost_big": costs.answer_cost(always.message, price) or 0.0,
                "remote": remote["content"][:60] if remote else None,
                "remote_ok": _correct((remote or final)["content"], item),
                "remote_same_as_local_big": remote["content"].strip() == final["content"].strip()
                if remote else None,
                "remote_cost": price.cost(remote["prompt_tokens"], remote["completion_tokens"])
                if remote and price else 0.0,
            })  # fmt: skip
    finally:
        service.close()
        db.close()
    n = len(rows)
    escalated = sum(r["escalated"] for r in rows)
    return {
        "questions": n,
        "threshold": threshold,
        "small_model": "SmolLM2-135M-Instruct Q4_1",
        "big_model": "gemma-3-270m Q4_K_M (no chat template: plain-text prompt)",
        "exact_match": {
            "small_alone": round(sum(r["small_ok"] for r in rows) / n, 3),
            "with_escalation": round(sum(r["escalated_ok"] for r in rows) / n, 3),
            "always_big": round(sum(r["big_ok"] for r in rows) / n, 3),
            "with_remote_escalation": round(sum(r["remote_ok"] for r in rows) / n, 3),
        },
        "escalation_rate": round(escalated / n, 3),
        "big_model_answers_avoided": n - escalated,
        "cloud_cost_avoided_usd": {
            "price": price.name if price else None,
            "all_answers_local": round(
                sum(r["cost_small"] + (r["cost_big"] if r["escalated"] else 0.0) for r in rows), 6
            ),
        },
        "remote_escalation": {
            "server": "python -m llama_cpp.server, gemma-3-270m Q4_K_M, chat_format "
            "lantern-plain (Lantern's prompt for a model without a template), stream off",
            "answers": escalated,
            "same_text_as_local_gemma": sum(bool(r["remote_same_as_local_big"]) for r in rows),
            "cost_at_price_if_a_paid_cloud_usd": round(sum(r["remote_cost"] for r in rows), 6),
            "cost_avoided_usd": round(sum(r["cost_small"] for r in rows), 6),
            "note": "a remote answer avoids no cloud cost: only the local (small) answers "
            "count as avoided; the remote escalations would cost what is shown at the price",
        },
        "mean_confidence": round(statistics.mean(r["confidence"] or 0.0 for r in rows), 3),
        "rows": rows,
    }


def lora(smol: Path, tmp: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, SamplingOptions
    from tests.specialists.lora_files import write_adapter

    adapter = write_adapter(tmp / "bench-lora.gguf", rank=8)
    options = LoadOptions(n_ctx=1024, n_threads=2, n_threads_batch=2)
    question = [ChatMessage("user", "Name three colours.")]
    greedy = SamplingOptions(temperature=0.0, max_tokens=1)
    apply_s, remove_s, reload_s, first_reply_s = [], [], [], []
    session = ChatSession.load(smol, options)
    try:
        for _ in range(5):
            start = time.perf_counter()
            session.set_adapters([(adapter, 1.0)])
            apply_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            list(session.reply(question, greedy))
            first_reply_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            session.set_adapters([])
            remove_s.append(time.perf_counter() - start)
    finally:
        session.close()
    for _ in range(3):
        start = time.perf_counter()
        ChatSession.load(smol, options).close()
        reload_s.append(time.perf_counter() - start)
    ms = lambda xs: round(statistics.median(xs) * 1000, 2)  # noqa: E731
    return {
        "adapter": "rank 8 on attn_q of all 30 layers",
        "apply_ms_median": ms(apply_s),
        "apply_ms_first": round(apply_s[0] * 1000, 2),
        "remove_ms_median": ms(remove_s),
        "first_token_after_apply_ms_median": ms(first_reply_s),
        "full_reload_ms_median": ms(reload_s),
        "note": "apply = load the adapter file (first time only) + set it on the context; the "
        "KV cache is emptied, so the next reply re-evaluates its prompt (first_token_after).",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--skip-escalation", action="store_true")
    parser.add_argument("--only-escalation", action="store_true",
                        help="measure (c) only; keep the other figures of route.json")  # fmt: skip
    args = parser.parse_args()
    if args.only_escalation:
        return only_escalation(args.threshold)
    sys.path.insert(0, str(ROOT))
    from app.knowledge.embed import Embedder
    from app.store.db import open_db
    from tests.fixtures.minilm_gguf import minilm_gguf_path
    from tests.fixtures.models import gemma_path, smollm2_path

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        os.environ["LANTERN_HOME"] = str(tmp / "home")
        db = open_db(tmp / "route.db")
        embedder = Embedder(minilm_gguf_path(), n_threads=1)
        try:
            result: dict[str, Any] = {"routing": routing(db, embedder)}
        finally:
            embedder.close()
            db.close()
        if not args.skip_escalation:
            result["escalation"] = escalation(tmp, gemma_path(), args.threshold)
        result["lora"] = lora(smollm2_path(), tmp)
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                         "note": "2 shared cores, other agents running"}  # fmt: skip
    result["machine"]["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    r = result["routing"]
    print(f"routing overhead p95 {r['overhead_ms']['p95']} ms (goal 20), accuracy {r['accuracy']}")
    if "escalation" in result:
        e = result["escalation"]
        print(f"escalation rate {e['escalation_rate']}, exact match {e['exact_match']}")
    print(f"lora {result['lora']}")
    return 0


def only_escalation(threshold: float) -> int:
    """Re-measure (c) and replace it in route.json (the other sections keep their dates)."""
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.models import gemma_path

    result = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        os.environ["LANTERN_HOME"] = str(tmp / "home")
        result["escalation"] = escalation(tmp, gemma_path(), threshold)
    result["escalation"]["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["escalation"]["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    e = result["escalation"]
    print(f"escalation rate {e['escalation_rate']}, exact match {e['exact_match']}")
    print(f"remote: {e['remote_escalation']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
