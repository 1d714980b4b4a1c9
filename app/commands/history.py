"""`lantern history list [--json] | show ID | search QUERY [--json] |
export ID|--all --format md|json [--output FILE] | import FILE [--format lantern|chatgpt]`."""

from __future__ import annotations

import argparse
import json
import os
import stat
from pathlib import Path

from app.chat.notes import answer_note
from app.commands.common import out
from app.errors import LanternError
from app.store.conversations import get_conversation, list_conversations
from app.store.export import FORMATS, export_all, export_conversation
from app.store.imports import IMPORT_FORMATS, detect_format, import_document, parse
from app.store.messages import active_path, siblings
from app.store.search import search_messages

_ROLE_LABELS = {"user": "you", "assistant": "assistant", "system": "system"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("history", help="saved conversations")
    hist = p.add_subparsers(dest="history_command", metavar="COMMAND", required=True)

    ls = hist.add_parser("list", help="list conversations, the most recent first")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=run_list)

    show = hist.add_parser("show", help="print a conversation")
    show.add_argument("id", type=int)
    show.set_defaults(func=run_show)

    find = hist.add_parser("search", help="search every message (words; the last as a prefix)")
    find.add_argument("query", help="words to find (any text is a valid query)")
    find.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    find.add_argument("--json", action="store_true", help="print a JSON array")
    find.set_defaults(func=run_search)

    exp = hist.add_parser("export", help="export conversations as Markdown or JSON")
    which = exp.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?", help="the conversation to export")
    which.add_argument("--all", action="store_true", help="every conversation")
    exp.add_argument("--format", choices=FORMATS, default="md", help="md (default) or json")
    exp.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE")
    exp.set_defaults(func=run_export)

    imp = hist.add_parser("import", help="import a Lantern JSON export or ChatGPT's export")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument(
        "--format", choices=IMPORT_FORMATS, help="lantern or chatgpt (default: from the file)"
    )
    imp.set_defaults(func=run_import)


def run_list(args: argparse.Namespace) -> int:
    rows = list_conversations(args.db)
    if args.json:
        out(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        out("No conversations yet. Start one with `lantern chat` or `lantern ask`.")
        return 0
    out(f"{'ID':>5}  {'UPDATED':<16}  {'MSGS':>4}  {'MODEL':<28}  TITLE")
    for row in rows:
        updated = row["updated_at"][:16].replace("T", " ")
        out(
            f"{row['id']:>5}  {updated:<16}  {row['message_count']:>4}  "
            f"{(row['model'] or '-')[:28]:<28}  {row['title']}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    conv = get_conversation(args.db, args.id)
    out(f"# {conv['title']}  (conversation {conv['id']}, model {conv['model'] or '-'})")
    if conv["system_prompt"]:
        out(f"system> {conv['system_prompt']}")
    for msg in active_path(args.db, args.id):
        note = answer_note(msg) if msg["role"] == "assistant" else None
        notes = [note] if note else []
        versions = len(siblings(args.db, msg["id"]))
        if versions > 1:
            notes.append(f"{versions} versions")
        suffix = f"  [{', '.join(notes)}]" if notes else ""
        out(f"{_ROLE_LABELS.get(msg['role'], msg['role'])}> {msg['content']}{suffix}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    hits = search_messages(args.db, args.query, limit=max(1, args.limit))
    if args.json:
        out(json.dumps([h.as_dict() for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        out("No message matches.")
        return 0
    for hit in hits:
        where = f"{hit.conversation_id}/{hit.message_id}"
        snippet = " ".join(hit.snippet.split())
        out(f"{where:>11}  {hit.title[:30]:<30}  {_ROLE_LABELS.get(hit.role, hit.role)}> {snippet}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LanternError(f"Cannot read {args.file}: {exc}.") from exc
    data = parse(text, str(args.file))
    fmt = args.format or detect_format(data)
    ids = import_document(args.db, data, fmt)
    names = ", ".join(str(i) for i in ids)
    out(f"Imported {len(ids)} conversation{'s' if len(ids) != 1 else ''} ({fmt}): {names}.")
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.all:
        text = export_all(args.db, args.format)
    else:
        text = export_conversation(args.db, args.id, args.format)
    if args.output is None:
        out(text, end="")
        return 0
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if hasattr(os, "fchmod") and stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise (not /dev/null)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise LanternError(f"Cannot write {args.output}: {exc.strerror or exc}.") from exc
    what = "every conversation" if args.all else f"conversation {args.id}"
    out(f"Exported {what} to {args.output}.")
    return 0
