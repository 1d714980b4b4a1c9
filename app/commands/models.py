"""`lantern models list [--json] | import PATH [--name N] [--in-place] | remove | default`.

The hub commands (search, download...) are added by ``app.commands.models_hub``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.commands import models_hub
from app.commands.common import human_size, out
from app.models import registry


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="list, import and remove local models")
    models_sub = p.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    ls = models_sub.add_parser("list", help="list installed models")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=run_list)

    imp = models_sub.add_parser("import", help="add a GGUF file")
    imp.add_argument("path", type=Path, help="the .gguf file")
    imp.add_argument("--name", metavar="N", help="name to give it (default: the file name)")
    imp.add_argument(
        "--in-place",
        action="store_true",
        help="use the file where it is instead of copying it into Lantern's models folder",
    )
    imp.set_defaults(func=run_import)

    rm = models_sub.add_parser("remove", help="forget a model (deletes Lantern's own copy)")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)

    default = models_sub.add_parser("default", help="make a model the default for chat")
    default.add_argument("name")
    default.set_defaults(func=run_default)

    models_hub.register(models_sub)


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A registry row for display/JSON, with whether its file is there."""
    return {
        "name": row["name"],
        "kind": row["kind"],
        "architecture": row["architecture"],
        "quantization": row["quantization"],
        "parameters": row["parameters"],
        "context_length": row["context_length"],
        "has_chat_template": bool(row["has_chat_template"]),
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "path": row["path"],
        "file_exists": Path(row["path"]).is_file(),
        "in_place": bool(row["in_place"]),
        "default_chat": bool(row["is_default_chat"]),
        "default_embedding": bool(row["is_default_embedding"]),
        "source_repo": row["source_repo"],
        "added_at": row["added_at"],
    }


def run_list(args: argparse.Namespace) -> int:
    rows = [describe(row) for row in registry.list_models(args.db)]
    default = registry.default_model(args.db, "chat")
    for row in rows:
        row["default_chat"] = default is not None and row["name"] == default["name"]
    if args.json:
        out(json.dumps(rows, indent=2))
        return 0
    if not rows:
        out("No models installed. Add one with `lantern models import PATH`.")
        return 0
    out(f"  {'NAME':<32} {'KIND':<9} {'ARCH':<10} {'QUANT':<8} {'SIZE':>9}  FILE")
    for row in rows:
        mark = "*" if row["default_chat"] else " "
        state = "ok" if row["file_exists"] else "MISSING"
        out(
            f"{mark} {row['name']:<32} {row['kind']:<9} {row['architecture'] or '?':<10} "
            f"{row['quantization'] or '?':<8} {human_size(row['size_bytes']):>9}  "
            f"{state} {row['path']}"
        )
    out("(* = default chat model)")
    return 0


def run_import(args: argparse.Namespace) -> int:
    row = registry.import_model(
        args.db, args.path, args.paths.models, copy=not args.in_place, name=args.name
    )
    where = "in place" if row["in_place"] else "copied"
    out(
        f"Imported {row['name']}: {row['kind']} model, {row['architecture']} "
        f"{row['quantization'] or ''}, {human_size(row['size_bytes'])} ({where}: {row['path']})"
    )
    if row["kind"] == "chat" and not row["has_chat_template"]:
        out("This model has no chat template: Lantern will use a plain format for chat.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    row = registry.remove_model(args.db, args.name)
    if row["in_place"]:
        out(f"Removed {row['name']} (its file stays at {row['path']}).")
    else:
        out(f"Removed {row['name']} and deleted its copy {row['path']}.")
    return 0


def run_default(args: argparse.Namespace) -> int:
    row = registry.set_default(args.db, args.name, "chat")
    out(f"{row['name']} is now the default chat model.")
    return 0
