"""`lantern docs add|list|remove|search|rescan|collections`: documents to answer from.

Documents go into a named collection (``--collection``, default "default") or into one
conversation's own documents (``--conversation ID``). Each file that cannot be indexed
gets one line on stderr saying why; the others go on (exit code 1 if any failed).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from app.commands.common import err, note, out
from app.errors import LanternError, ModelFileError
from app.knowledge.collections import list_collections, record_results, remove_path, scope_ids
from app.knowledge.extract import Limits
from app.knowledge.index import list_documents
from app.knowledge.ingest import Ingestor
from app.knowledge.ingest_report import IngestReport, Progress
from app.knowledge.retrieve import KEYWORD_ONLY_ASKED_NOTICE, KEYWORD_ONLY_NOTICE, search

MiB = 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``docs`` command and its sub-commands."""
    docs = sub.add_parser("docs", help="documents to answer from (add, list, search...)")
    dsub = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)

    add = dsub.add_parser("add", help="index files and folders")
    add.add_argument("files", nargs="+", type=Path, metavar="PATH")  # args.paths is taken
    _scope_args(add)
    add.add_argument("--max-size", type=_megabytes, metavar="MB", default=100.0,
                     help="skip files bigger than this (default 100 MB)")  # fmt: skip
    _model_args(add)
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(func=run_add)

    lst = dsub.add_parser("list", help="list indexed documents")
    _scope_args(lst)
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    rm = dsub.add_parser("remove", help="forget a file (or every file under a folder)")
    rm.add_argument("path", type=Path, metavar="PATH")
    rm.add_argument("--collection", metavar="NAME", help="only in this collection")
    rm.set_defaults(func=run_remove)

    sr = dsub.add_parser("search", help="search the documents")
    sr.add_argument("query", metavar="QUERY")
    _scope_args(sr)
    sr.add_argument(
        "-k", type=_at_least_one, default=5, metavar="N", help="how many results (default 5)"
    )
    sr.add_argument("--mode", choices=("hybrid", "keyword", "vector"), default="hybrid")
    _model_args(sr)
    sr.add_argument("--reranker", type=Path, metavar="GGUF",
                    help="reorder the results with this reranker (default: the installed "
                    "one, when the docs.rerank setting is on)")  # fmt: skip
    sr.add_argument("--no-rerank", action="store_true", help="do not rerank")
    sr.add_argument("--json", action="store_true", help="print JSON")
    sr.set_defaults(func=run_search)

    rs = dsub.add_parser("rescan", help="re-index changed files, drop removed ones")
    rs.add_argument("--collection", metavar="NAME", help="only this collection")
    _model_args(rs)
    rs.add_argument("--json", action="store_true", help="print one JSON object")
    rs.set_defaults(func=run_rescan)

    co = dsub.add_parser("collections", help="list collections")
    co.add_argument("--json", action="store_true", help="print JSON")
    co.set_defaults(func=run_collections)


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of megabytes: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value * MiB >= 2**62:
        raise argparse.ArgumentTypeError(
            f"must be a size in megabytes above 0 (for example 100), not {text!r}"
        )
    return value


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--collection", metavar="NAME", help="a named collection")
    p.add_argument("--conversation", metavar="ID", type=int, help="a conversation's documents")


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedding-model", type=Path, metavar="GGUF",
                   help="embedding model file (default: the registered default)")  # fmt: skip
    p.add_argument("--keyword-only", action="store_true", help="do not embed (FTS5 only)")


def _embedder(args: argparse.Namespace) -> Any:
    if getattr(args, "keyword_only", False):
        return None
    from app.knowledge.embedding_model import open_embedder

    return open_embedder(args.db, args.embedding_model)


def _progress(p: Progress) -> None:
    if not sys.stderr.isatty():
        return
    eta = f", about {p.eta_s:.0f} s left" if p.eta_s else ""
    name = p.current.name if p.current else ""
    sys.stderr.write(
        f"\r{p.files_done}/{p.files_total} files, {p.pages} pages, {p.chunks} chunks{eta} "
        f"{name[:40]:<40}"
    )
    sys.stderr.flush()


def _asked_notices(notices: list[str], args: argparse.Namespace) -> list[str]:
    """``--keyword-only`` is not "no embedding model is installed": say it was asked for."""
    if not getattr(args, "keyword_only", False):
        return notices
    return [KEYWORD_ONLY_ASKED_NOTICE if n == KEYWORD_ONLY_NOTICE else n for n in notices]


def _report(report: IngestReport, as_json: bool) -> int:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if as_json:
        out(json.dumps({
            "results": [
                {"file": str(r.path), "status": r.status, "message": r.message,
                 "pages": r.pages, "chunks": r.chunks}
                for r in report.results
            ],
            "notices": report.notices,
            "cancelled": report.cancelled,
        }, indent=2))  # fmt: skip
    else:
        for r in report.results:
            if r.status == "failed":
                err(f"failed     {r.path}: {r.message}")
            elif r.status == "removed":
                out(f"removed    {r.path} ({r.message})")
            else:
                out(f"{r.status:<10} {r.path} ({r.pages} pages, {r.chunks} chunks)")
        for text in report.notices:
            note(text)
    return 1 if report.failures else 0


def _remember_problems(db: Any, collection: str | None, report: IngestReport) -> None:
    """The Documents view lists files the CLI could not index, with why."""
    if collection:
        record_results(db, collection, report.results)


def run_add(args: argparse.Namespace) -> int:
    embedder = _embedder(args)
    try:
        limits = Limits(max_file_bytes=int(args.max_size * MiB))
        ingestor = Ingestor(args.db, embedder, limits=limits, progress=_progress)
        report = ingestor.add(args.files, args.collection, args.conversation)
        _remember_problems(args.db, args.collection, report)
        report.notices = _asked_notices(report.notices, args)
    finally:
        if embedder is not None:
            embedder.close()
    return _report(report, args.json)


def run_rescan(args: argparse.Namespace) -> int:
    embedder = _embedder(args)
    try:
        report = Ingestor(args.db, embedder, progress=_progress).rescan(args.collection)
        _remember_problems(args.db, args.collection, report)
        report.notices = _asked_notices(report.notices, args)
    finally:
        if embedder is not None:
            embedder.close()
    return _report(report, args.json)


def run_list(args: argparse.Namespace) -> int:
    docs = list_documents(args.db, scope_ids(args.db, args.collection, args.conversation))
    if args.json:
        keys = ("path", "collection", "kind", "title", "pages", "n_chunks", "size_bytes",
                "embed_model", "indexed_at")  # fmt: skip
        out(json.dumps([{k: d[k] for k in keys} for d in docs], indent=2))
        return 0
    if not docs:
        out("No documents. Add some with `lantern docs add PATH`.")
    for d in docs:
        vectors = "keyword-only" if not d["embed_model"] else d["embed_model"].split(":")[0]
        out(f"{d['collection']:<16} {d['path']}  ({d['pages']} pages, {d['n_chunks']} chunks, "
            f"{vectors})")  # fmt: skip
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = remove_path(args.db, args.path, args.collection)
    if not removed:
        err(f"{args.path} is not indexed (see `lantern docs list`).")
        return 1
    out(f"removed {removed} document(s)")
    return 0


def _reranker(args: argparse.Namespace) -> Any:
    from app.knowledge.rerank import Reranker, reranker_path
    from app.store.settings import get_setting

    if args.no_rerank:
        return None
    if args.reranker is not None:
        if not args.reranker.is_file():
            raise ModelFileError(f"The reranker file {args.reranker} does not exist.")
        return Reranker(args.reranker)
    path = reranker_path(args.db) if get_setting(args.db, "docs.rerank") else None
    if path is None:
        return None
    try:
        return Reranker(path)
    except LanternError as exc:  # the installed one is damaged: search without it
        note(f"The reranker {path.name} could not be loaded, so results are not reranked: {exc}")
        return None


def run_search(args: argparse.Namespace) -> int:
    embedder = None if args.mode == "keyword" else _embedder(args)
    reranker = None
    try:
        reranker = _reranker(args)
        result = search(
            args.db, args.query, collection=args.collection, conversation_id=args.conversation,
            embedder=embedder, k=args.k, mode=args.mode, reranker=reranker,
        )  # fmt: skip
    finally:
        for model in (embedder, reranker):
            if model is not None:
                model.close()
    result.notices = _asked_notices(result.notices, args)
    if args.json:
        out(json.dumps({
            "mode": result.mode,
            "notices": result.notices,
            "results": [h.as_source() | {"heading": h.heading} for h in result.hits],
        }, indent=2))  # fmt: skip
        return 0
    for text in result.notices:
        note(text)
    if not result.hits:
        out("No matching passages.")
    for n, hit in enumerate(result.hits, start=1):
        snippet = " ".join(hit.text.split())[:300]
        out(f"[{n}] {hit.file}, page {hit.page}  (score {hit.score:.4f})\n    {snippet}")
    return 0


def run_collections(args: argparse.Namespace) -> int:
    rows = list_collections(args.db)
    if args.json:
        out(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        out(f"{row['name']:<24} {row['documents']} documents, {row['chunks']} chunks")
    return 0
