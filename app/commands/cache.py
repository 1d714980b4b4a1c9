"""`lantern cache info [--json] | clear [--json]`: the saved KV caches of conversations
(``app.chat.kv_cache``): where they are, how much disk they use against the budget
(setting ``cache.kv_budget_mb``), and deleting them all."""

from __future__ import annotations

import argparse
import json

from app.commands.common import out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cache", help="saved KV caches of conversations (info, clear)")
    cmd = p.add_subparsers(dest="cache_command", metavar="COMMAND", required=True)
    info = cmd.add_parser("info", help="disk used by saved KV caches, one line per file")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=run_info)
    clear = cmd.add_parser("clear", help="delete every saved KV cache")
    clear.add_argument("--json", action="store_true", help="print one JSON object")
    clear.set_defaults(func=run_clear)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB"


def run_info(args: argparse.Namespace) -> int:
    from app.chat.kv_cache import KvCache

    cache = KvCache.for_db(args.db)
    usage, rows = cache.info(), cache.describe()
    if args.json:
        report = {
            "folder": str(usage.folder),
            "files": usage.files,
            "bytes": usage.bytes,
            "budget_bytes": usage.budget_bytes,
            "states": rows,
        }
        out(json.dumps(report, indent=2))
        return 0
    out(f"KV cache    {usage.folder}")
    out(f"Used        {_mib(usage.bytes)} of {_mib(usage.budget_bytes)} in {usage.files} files")
    for row in rows:
        out(f"  {row['file']}  {_mib(row['bytes'])}  {row['tokens']} tokens  used {row['used']}")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    from app.chat.kv_cache import KvCache

    cache = KvCache.for_db(args.db)
    files = cache.info().files
    freed = cache.clear()
    if args.json:
        out(json.dumps({"deleted_files": files, "freed_bytes": freed}))
    else:
        out(f"Deleted {files} saved KV caches ({_mib(freed)}).")
    return 0
