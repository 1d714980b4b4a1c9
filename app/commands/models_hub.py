"""`lantern models search|files|download|verify|catalogue|hf-cache`: the hub side of models.

``register(models_sub)`` adds these under ``lantern models`` (``app.commands.models``
owns list/import/remove/default). All honour ``HF_ENDPOINT`` and ``HF_TOKEN`` as set
when the command runs; only search, files and download use the network.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from app.commands.common import InterruptGuard, err, human_size, note, out
from app.models import fit
from app.models.hub_token import client_for
from app.models.progress import DownloadControl, Progress, format_eta

EXIT_MISMATCH = 1


def register(models_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = models_sub.add_parser("search", help="search the hub for GGUF models")
    search.add_argument("query")
    search.add_argument("--sort", choices=("downloads", "likes"), default="downloads")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.set_defaults(func=run_search)

    files = models_sub.add_parser("files", help="GGUF files of a hub repository, with fit")
    files.add_argument("repo", help="owner/name")
    files.add_argument("--revision", default="main")
    files.add_argument("--context", type=int, default=fit.DEFAULT_CTX, help="tokens")
    files.add_argument("--token", help="Hugging Face token (default: HF_TOKEN / saved)")
    files.add_argument("--json", action="store_true", help="print a JSON object")
    files.set_defaults(func=run_files)

    dl = models_sub.add_parser(
        "download", help="download, verify and register a model (run again to resume)"
    )
    dl.add_argument("repo", help="owner/name")
    dl.add_argument("file", nargs="?", help="GGUF file (default: the recommended one)")
    dl.add_argument("--revision", default="main")
    dl.add_argument("--context", type=int, default=fit.DEFAULT_CTX, help="for the choice")
    dl.add_argument("--token", help="Hugging Face token (default: HF_TOKEN / saved)")
    dl.add_argument("--json", action="store_true", help="JSON lines: progress, then result")
    dl.set_defaults(func=run_download)

    verify = models_sub.add_parser("verify", help="re-check SHA-256 of installed models")
    verify.add_argument("name", nargs="?", help="one model (default: all)")
    verify.add_argument("--json", action="store_true", help="print a JSON array")
    verify.set_defaults(func=run_verify)

    cat = models_sub.add_parser("catalogue", help="the curated models, with fit badges")
    cat.add_argument("--context", type=int, default=fit.DEFAULT_CTX, help="tokens")
    cat.add_argument("--json", action="store_true", help="print a JSON array")
    cat.set_defaults(func=run_catalogue)

    cache = models_sub.add_parser("hf-cache", help="GGUF models in the Hugging Face cache")
    cache.add_argument("--add", action="store_true", help="register them (used in place)")
    cache.add_argument("--json", action="store_true", help="print a JSON array")
    cache.set_defaults(func=run_hf_cache)


# -- search / files ------------------------------------------------------------------------


def run_search(args: argparse.Namespace) -> int:
    found = client_for(args.db).search(args.query, sort=args.sort, limit=args.limit)
    if args.json:
        out(json.dumps([_summary(r) for r in found], indent=2))
        return 0
    if not found:
        out(f"No GGUF repositories match {args.query!r}.")
        return 0
    out(f"{'REPOSITORY':<60} {'DOWNLOADS':>10} {'LIKES':>6}")
    for r in found:
        gated = "  (gated: needs a token)" if r.gated else ""
        out(f"{r.repo_id:<60} {r.downloads:>10} {r.likes:>6}{gated}")
    return 0


def _summary(r: Any) -> dict[str, Any]:
    modified = r.last_modified.isoformat() if r.last_modified else None
    return {
        "repo_id": r.repo_id,
        "downloads": r.downloads,
        "likes": r.likes,
        "gated": r.gated,
        "last_modified": modified,
    }


def run_files(args: argparse.Namespace) -> int:
    from app.models.repo_view import describe_repo

    view = describe_repo(client_for(args.db, args.token), args.repo, args.revision, args.context)
    if args.json:
        out(json.dumps(view.as_json(), indent=2))
        return 0
    out(f"{view.listing.repo_id} @ {view.listing.commit or '?'}  license: {view.license}")
    out(f"{'FILE':<56} {'QUANT':<8} {'SIZE':>9}  {'FIT':<18} SHA-256")
    for row in view.rows:
        mark = "*" if row.recommended else " "
        parts = f" ({len(row.file.parts)} parts)" if row.file.is_split else ""
        sha = (row.file.parts[0].sha256 or "none")[:12]
        out(
            f"{mark}{row.file.name + parts:<56} {row.file.quantization or '?':<8} "
            f"{human_size(row.file.size):>9}  {row.fit.label:<18} {sha}"
        )
    if view.recommended:
        out(f"* recommended for this machine at {args.context} tokens: {view.recommended}")
    else:
        out("No file fits in this machine's free memory.")
    return 0


# -- download ---------------------------------------------------------------------------------


class _Printer:
    """Progress on stderr: one line rewritten in a terminal, a line per step otherwise."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0
        self.last_phase = ""

    def __call__(self, p: Progress) -> None:
        if self.as_json:
            out(json.dumps({"event": "progress", **_progress_json(p)}))
            return
        now = time.monotonic()
        changed = p.phase != self.last_phase
        self.last_phase = p.phase
        if not changed and not self.tty and now - self.last_line < 2.0:
            return
        self.last_line = now
        part = f" part {p.part}/{p.parts}" if p.parts > 1 else ""
        line = (
            f"{p.phase:<11} {p.name}{part}: {human_size(p.done)} / {human_size(p.total)} "
            f"({p.fraction:5.1%}) {human_size(int(p.speed))}/s ETA {format_eta(p.eta)}"
        )
        if p.message:
            line += f"  [{p.message}]"
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line + ("\n" if p.phase in _FINAL else ""))
            sys.stderr.flush()
        else:
            err(line)


_FINAL = {"done", "paused", "cancelled", "failed"}


def _progress_json(p: Progress) -> dict[str, Any]:
    return {
        "repo_id": p.repo_id,
        "name": p.name,
        "phase": p.phase,
        "done": p.done,
        "total": p.total,
        "speed": round(p.speed),
        "eta": None if p.eta is None else round(p.eta, 1),
        "part": p.part,
        "parts": p.parts,
        "message": p.message,
    }


def run_download(args: argparse.Namespace) -> int:
    from app.models.download import download_model

    control = DownloadControl()
    printer = _Printer(args.json)
    with InterruptGuard(control.pause).installed():  # Ctrl-C pauses; the part stays
        outcome = download_model(
            args.db,
            args.repo,
            args.file,
            revision=args.revision,
            models_dir=args.paths.models,
            client=client_for(args.db, args.token),
            on_progress=printer,
            control=control,
            n_ctx=args.context,
        )
    model = outcome.model or {}
    if args.json:
        out(
            json.dumps(
                {
                    "event": "result",
                    "status": outcome.status,
                    "repo_id": outcome.repo_id,
                    "file": outcome.name,
                    "model": model.get("name"),
                    "path": str(outcome.path) if outcome.path else None,
                    "sha256": model.get("sha256"),
                    "fetched_bytes": outcome.fetched_bytes,
                    "total_bytes": outcome.total_bytes,
                    "seconds": round(outcome.seconds, 3),
                }
            )
        )
    elif outcome.status == "complete":
        out(f"Downloaded and verified {outcome.name}: installed as {model.get('name')}.")
    elif outcome.status == "already":
        out(f"{outcome.name} is already installed as {model.get('name')}.")
    elif outcome.status == "paused":
        note(f"paused {outcome.name}; run the same command again to resume.")
        return 130
    return 0


# -- verify / catalogue / hf-cache ------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    from app.models.verify import verify_models

    results = verify_models(args.db, args.name)
    bad = [r for r in results if not r.ok]
    if args.json:
        out(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "path": str(r.path),
                        "status": r.status,
                        "ok": r.ok,
                        "expected": r.expected,
                        "actual": r.actual,
                        "size_bytes": r.size,
                        "seconds": round(r.seconds, 3),
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        for r in results:
            speed = f"{r.size / r.seconds / 1e6:.0f} MB/s" if r.seconds else ""
            out(f"{r.status:<9} {r.name:<36} {human_size(r.size):>9} {speed:>10}  {r.path}")
        for r in bad:
            err(r.advice())
        if not results:
            out("No models installed.")
    return EXIT_MISMATCH if bad else 0


def run_catalogue(args: argparse.Namespace) -> int:
    from app.models.catalogue import load_catalogue

    machine = fit.Machine.current()
    rows = []
    for entry in load_catalogue():
        estimate = fit.estimate(
            entry.approx_size_bytes, machine, entry.shape, args.context, entry.parameters
        )
        rows.append((entry, estimate))
    if args.json:
        out(
            json.dumps(
                [
                    {
                        "id": e.id,
                        "name": e.name,
                        "repo": e.repo,
                        "file": e.file,
                        "kind": e.kind,
                        "parameters": e.parameters,
                        "license": e.license,
                        "context_length": e.context_length,
                        "good_for": list(e.good_for),
                        "description": e.description,
                        "approx_size_bytes": e.approx_size_bytes,
                        "fit": f.badge,
                        "memory_bytes": f.total,
                    }
                    for e, f in rows
                ],
                indent=2,
            )
        )
        return 0
    for e, f in rows:
        out(f"{e.name:<30} {human_size(e.approx_size_bytes):>9}  {f.label:<18} {e.repo}")
        out(f"    {e.description} [{', '.join(e.good_for)}; {e.license}]")
    return 0


def run_hf_cache(args: argparse.Namespace) -> int:
    from app.models.hf_cache import find_cached_models, hf_cache_dir, register_cached
    from app.models.hf_cache import registered_paths as known_paths

    found = find_cached_models()
    known = known_paths(args.db)
    added = []
    if args.add:
        for model in found:
            if str(model.paths[0]) not in known and str(model.paths[0].resolve()) not in known:
                added.append(register_cached(args.db, model)["name"])
    if args.json:
        out(
            json.dumps(
                [
                    {
                        "repo_id": m.repo_id,
                        "name": m.name,
                        "paths": [str(p) for p in m.paths],
                        "sha256": list(m.sha256s),
                        "size_bytes": m.size,
                        "quantization": m.quantization,
                        "added": m.model_name in added,
                    }
                    for m in found
                ],
                indent=2,
            )
        )
        return 0
    if not found:
        out(f"No GGUF models in the Hugging Face cache ({hf_cache_dir()}).")
        return 0
    for m in found:
        state = "added" if m.model_name in added else ""
        out(f"{m.repo_id}/{m.name:<50} {human_size(m.size):>9} {state}")
    if not args.add:
        out("Run `lantern models hf-cache --add` to use them in place (nothing is copied).")
    return 0
