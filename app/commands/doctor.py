"""`lantern doctor [--json]`: what Lantern sees on this machine, for bug reports.

It reports problems instead of failing on them, and exits non-zero when something
Lantern needs is broken (llama.cpp missing, database unreadable, a model file missing).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from app import __version__
from app.commands.common import err, human_size, out
from app.errors import LanternError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the installation and print what Lantern sees")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, needs_db=False)


def run(args: argparse.Namespace) -> int:
    from app.paths import get_paths

    paths = get_paths()
    report: dict[str, Any] = {
        "lantern": __version__,
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "platform": platform.platform(),
        "qt": _qt(),
        "llama_cpp": _llama(),
        "threads": _threads(),
        "memory": _memory(),
        "paths": {
            "data": str(paths.data),
            "database": str(paths.db),
            "models": str(paths.models),
            "cache": str(paths.cache),
            "logs": str(paths.logs),
            "log_file": str(paths.log_file),
        },
    }
    report["database"], report["models"] = _store(args)
    report["pool"] = _pool(report["models"])
    report["embedding_model"] = _embedding()
    report["reranker"] = _reranker()
    report["kv_cache"] = _kv_cache()
    report["decoding"] = _decoding()
    problems = _problems(report)
    report["problems"] = problems
    if args.json:
        out(json.dumps(report, indent=2))
    else:
        _print(report)
    if problems:
        err(
            f"doctor: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        )
        return 1
    return 0


def _qt() -> dict[str, Any]:
    try:
        import PySide6
        from PySide6 import QtCore
    except ImportError as exc:
        return {"installed": False, "error": f"PySide6 is not installed ({exc})"}
    return {"installed": True, "pyside6": PySide6.__version__, "qt": QtCore.qVersion()}


def _llama() -> dict[str, Any]:
    try:
        import llama_cpp
    except Exception as exc:  # missing or a broken build: both are facts to report
        return {"installed": False, "error": f"llama_cpp cannot be imported ({exc})"}
    from app.engine.hardware import gpu_backend, gpu_offload_supported

    info: dict[str, Any] = {
        "installed": True,
        "version": getattr(llama_cpp, "__version__", "?"),
        "gpu_offload_supported": gpu_offload_supported(),
        "backend": gpu_backend(),
    }
    with contextlib.suppress(Exception):  # optional detail; older builds may lack it
        info["system_info"] = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    return info


def _threads() -> dict[str, Any]:
    from app.engine.hardware import default_threads, physical_cores

    return {
        "physical_cores": physical_cores(),
        "logical_cpus": os.cpu_count(),
        "default_threads": default_threads(),
    }


def _memory() -> dict[str, Any]:
    from app.engine.hardware import memory

    total, available = memory()
    return {"total_bytes": total, "available_bytes": available}


def _store(args: argparse.Namespace) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from app.commands.common import context
    from app.models.registry import list_models
    from app.store.db import quick_check

    try:
        db = context().db
        models = list_models(db)
        ok = quick_check(db)
    except LanternError as exc:
        return {"ok": False, "error": str(exc)}, []
    rows = [
        {
            "name": m["name"],
            "kind": m["kind"],
            "path": m["path"],
            "file_exists": Path(m["path"]).is_file(),
            "size_bytes": m["size_bytes"],
            "default_chat": bool(m["is_default_chat"]),
        }
        for m in models
    ]
    db_info: dict[str, Any] = {"ok": ok}
    if not ok:
        db_info["error"] = "PRAGMA quick_check found damage in the database."
    return db_info, rows


def _kv_cache() -> dict[str, Any]:
    """Disk used by saved conversation KV caches (issue 12, ``lantern cache``)."""
    from app.chat.kv_cache import KvCache
    from app.commands.common import context

    try:
        usage = KvCache.for_db(context().db).info()
    except LanternError as exc:
        return {"error": str(exc)}
    return {
        "folder": str(usage.folder),
        "files": usage.files,
        "bytes": usage.bytes,
        "budget_bytes": usage.budget_bytes,
    }


def _decoding() -> dict[str, Any]:
    """Flash attention and drafting as chat models get them here (issue 12)."""
    from app.chat.settings import flash_attn_choice
    from app.commands.common import context
    from app.engine.attention import NAMES, drafts_exactly, flash_attn_type
    from app.engine.hardware import default_gpu_layers
    from app.store.settings import get_setting

    try:
        db = context().db
        choice, draft = flash_attn_choice(db), int(get_setting(db, "engine.draft"))
        layers = get_setting(db, "chat.gpu_layers")
    except LanternError as exc:
        return {"error": str(exc)}
    layers = default_gpu_layers() if layers is None else int(layers)
    flash = flash_attn_type(choice, layers)
    if draft == 0:
        drafting = "off"
    elif draft > 0:
        drafting = f"on, up to {draft} tokens a step"
    elif drafts_exactly(flash, layers):
        drafting = "auto"
    else:
        drafting = "auto: off (it keeps greedy answers only on the CPU with flash attention on)"
    return {"flash_attn": NAMES[flash], "drafting": drafting}


def _pool(models: list[dict[str, Any]]) -> dict[str, Any]:
    """The model pool's budget (app.chat.pool) and each chat model's memory estimate; this
    process has loaded none (the window's pool is in the window's process)."""
    from app.chat.pool import ModelPool, model_memory
    from app.commands.common import context
    from app.store.settings import get_setting

    try:
        db = context().db
        pool = ModelPool.from_settings(db)
        n_ctx = int(get_setting(db, "chat.context_length"))
    except LanternError as exc:
        return {"error": str(exc)}
    state = pool.state()
    state["estimates"] = {
        m["name"]: model_memory(Path(m["path"]), n_ctx)
        for m in models
        if m["kind"] == "chat" and m["file_exists"]
    }
    return state


def _embedding() -> dict[str, Any]:
    """The embedding model document search uses (app.knowledge.embedding_model)."""
    from app.commands.common import context
    from app.knowledge.embedding_model import embedding_status

    try:
        return embedding_status(context().db)
    except LanternError as exc:
        return {"name": None, "path": None, "ok": False, "message": str(exc)}


def _reranker() -> dict[str, Any]:
    """The optional reranker document search uses (app.knowledge.rerank)."""
    from app.commands.common import context
    from app.knowledge.rerank import reranker_status

    try:
        return reranker_status(context().db)
    except LanternError as exc:
        return {"name": None, "ok": False, "message": str(exc)}


def _problems(report: dict[str, Any]) -> list[str]:
    problems = []
    if not report["llama_cpp"]["installed"]:
        problems.append(report["llama_cpp"]["error"])
    if not report["database"]["ok"]:
        problems.append(report["database"]["error"])
    for m in report["models"]:
        if not m["file_exists"]:
            problems.append(f"the file of model {m['name']} is missing: {m['path']}")
    usable = any(m["kind"] == "chat" and m["file_exists"] for m in report["models"])
    if not usable and report["database"]["ok"]:
        problems.append("no usable chat model: import one with `lantern models import PATH`")
    return problems


def _print(report: dict[str, Any]) -> None:
    qt, llama, threads, mem = report["qt"], report["llama_cpp"], report["threads"], report["memory"]
    out(f"Lantern     {report['lantern']}")
    out(f"Python      {report['python']['version']} ({report['python']['executable']})")
    out(f"Platform    {report['platform']}")
    if qt["installed"]:
        out(f"Qt          PySide6 {qt['pyside6']}, Qt {qt['qt']}")
    else:
        out(f"Qt          {qt['error']}")
    if llama["installed"]:
        gpu = "yes" if llama["gpu_offload_supported"] else "no"
        out(
            f"llama.cpp   llama-cpp-python {llama['version']}, "
            f"backend {llama['backend']}, GPU offload {gpu}"
        )
    else:
        out(f"llama.cpp   {llama['error']}")
    out(
        f"Threads     {threads['default_threads']} by default "
        f"({threads['physical_cores']} physical cores, {threads['logical_cpus']} logical)"
    )
    out(
        f"Memory      {human_size(mem['available_bytes'])} free of {human_size(mem['total_bytes'])}"
    )
    for key, value in report["paths"].items():
        out(f"{key + ':':<11} {value}")
    db = report["database"]
    out(f"Database    {'ok' if db['ok'] else db['error']}")
    out(f"Models      {len(report['models'])} registered")
    for m in report["models"]:
        state = "ok" if m["file_exists"] else "MISSING"
        mark = " (default)" if m["default_chat"] else ""
        out(f"  - {m['name']}{mark}: {m['kind']}, {state}, {m['path']}")
    out(f"Embedding   {report['embedding_model']['message']}")
    out(f"Reranker    {report['reranker']['message']}")
    pool = report["pool"]
    if "error" in pool:
        out(f"Model pool  {pool['error']}")
    else:
        out(
            f"Model pool  up to {pool['max_models']} models within "
            f"{human_size(pool['budget_bytes'])} ({pool['budget_source']}); "
            f"{len(pool['models'])} loaded in this process"
        )
        for name, need in pool["estimates"].items():
            out(f"  - {name}: about {human_size(need)} when loaded")
    kv = report["kv_cache"]
    out(
        f"KV cache    {kv['error']}"
        if "error" in kv
        else f"KV cache    {human_size(kv['bytes'])}"
        f" of {human_size(kv['budget_bytes'])} in {kv['files']} files ({kv['folder']})"
    )
    dec = report["decoding"]
    out(
        f"Decoding    {dec['error']}"
        if "error" in dec
        else f"Decoding    flash attention {dec['flash_attn']}, drafting {dec['drafting']}"
    )
    for problem in report["problems"]:
        out(f"PROBLEM: {problem}")
