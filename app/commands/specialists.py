"""`lantern specialists list|show|add|edit|remove [--json]`: who answers what;
`lantern specialists endpoints ...`: the remote servers they may use.

A thin front end over ``app.store.specialists`` (the store checks every value)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.commands.common import out
from app.errors import LanternError
from app.store import specialists as store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("specialists", help="specialists: which model answers which messages")
    cmds = p.add_subparsers(dest="specialists_command", metavar="COMMAND", required=True)

    ls = cmds.add_parser("list", help="list the specialists")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=run_list)

    show = cmds.add_parser("show", help="print one specialist")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)

    add = cmds.add_parser("add", help="add a specialist")
    add.add_argument("name")
    _fields(add)
    add.set_defaults(func=run_add)

    edit = cmds.add_parser("edit", help="change a specialist (only the options given)")
    edit.add_argument("name")
    edit.add_argument("--rename", metavar="NEW", help="a new name")
    _fields(edit)
    edit.set_defaults(func=run_edit)

    rm = cmds.add_parser("remove", help="delete a specialist")
    rm.add_argument("name")
    rm.add_argument("--json", action="store_true", help="print one JSON object")
    rm.set_defaults(func=run_remove)

    from app.commands import specialist_endpoints

    specialist_endpoints.register(cmds)


def _fields(p: argparse.ArgumentParser) -> None:
    p.add_argument("--description", help="what it is for (semantic routing reads it)")
    p.add_argument("--example", action="append", metavar="TEXT",
                   help="an example request (repeat; replaces the list)")  # fmt: skip
    p.add_argument("--model", metavar="NAME", help="a model name; 'default': the default model")
    p.add_argument("--adapter", action="append", metavar="NAME[:SCALE]",
                   help="a LoRA adapter (repeat; replaces the list; 'none' clears it)")  # fmt: skip
    p.add_argument("--system-prompt", metavar="TEXT")
    p.add_argument("--sampling", metavar="PRESET",
                   help="Balanced, Precise, Creative, Code, or JSON values")  # fmt: skip
    p.add_argument("--collection", metavar="NAME", help="a document collection ('none': no)")
    p.add_argument("--fallback", metavar="MODEL",
                   help="a bigger model to escalate to, or remote:ENDPOINT")  # fmt: skip
    p.add_argument("--threshold", type=float, metavar="0..1",
                   help="escalate answers under this confidence (0: only when asked)")  # fmt: skip
    remote = p.add_mutually_exclusive_group()
    remote.add_argument("--allow-remote", dest="allow_remote", action="store_true", default=None)
    remote.add_argument("--no-remote", dest="allow_remote", action="store_false")
    docs = p.add_mutually_exclusive_group()
    docs.add_argument("--remote-documents", dest="remote_documents", action="store_true",
                      default=None, help="document sources may go to a remote server")  # fmt: skip
    docs.add_argument("--no-remote-documents", dest="remote_documents", action="store_false")
    p.add_argument("--rule", action="append", metavar="RULE",
                   help="'keyword: X', 'regex: X', 'file: .py' or 'documents' (repeat; "
                   "replaces the list; 'none' clears it)")  # fmt: skip
    p.add_argument("--default", action="store_true", help="make it the default specialist")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _none(value: str | None) -> str | None:
    return None if value is None or value.lower() in ("none", "default", "") else value


def _values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.description is not None:
        values["description"] = args.description
    if args.example is not None:
        values["examples"] = args.example
    if args.model is not None:
        values["model"] = _none(args.model)
    if args.adapter is not None:
        values["adapters"] = [_adapter(a) for a in args.adapter if a.lower() != "none"]
    if args.system_prompt is not None:
        values["system_prompt"] = args.system_prompt
    if args.sampling is not None:
        values["sampling"] = _sampling(args.sampling)
    for key in ("collection", "fallback"):
        if getattr(args, key) is not None:
            values[key] = _none(getattr(args, key))
    if args.threshold is not None:
        values["threshold"] = args.threshold
    if args.allow_remote is not None:
        values["allow_remote"] = args.allow_remote
    if args.remote_documents is not None:
        values["remote_documents"] = args.remote_documents
    if args.rule is not None:
        values["rules"] = [r for r in args.rule if r.lower() != "none"]
    if args.default:
        values["is_default"] = True
    return values


def _adapter(text: str) -> dict[str, Any]:
    name, sep, scale = text.rpartition(":")
    if not sep:
        return {"name": text, "scale": 1.0}
    try:
        return {"name": name, "scale": float(scale)}
    except ValueError:
        raise LanternError(f"'{text}': the scale after ':' must be a number.") from None


def _sampling(text: str) -> Any:
    if text.strip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise LanternError(f"--sampling is not valid JSON ({exc.msg}).") from None
    return _none(text)


def _print(row: dict[str, Any]) -> None:
    out(f"{row['name']}{'  (default)' if row['is_default'] else ''}")
    out(f"  description:   {row['description']}")
    out(f"  model:         {row['model'] or 'the default chat model'}")
    adapters = ", ".join(f"{a['name']} x{a['scale']:g}" for a in row["adapters"])
    out(f"  adapters:      {adapters or 'none'}")
    out(f"  system prompt: {row['system_prompt'] or 'none'}")
    sampling = row["sampling"]
    shown = json.dumps(sampling) if isinstance(sampling, dict) else sampling or "default"
    out(f"  sampling:      {shown}")
    out(f"  documents:     {row['collection'] or 'none'}")
    fallback = row["fallback"] or "none"
    threshold = f", escalate under {row['threshold']:.2f}" if row["threshold"] else ""
    out(f"  fallback:      {fallback}{threshold}")
    remote = "never"
    if row["allow_remote"]:
        remote = "allowed, " + ("with" if row["remote_documents"] else "without") + " documents"
    out(f"  remote:        {remote}")
    out("  examples:      " + ("; ".join(row["examples"]) or "none"))
    out("  rules:         " + ("; ".join(row["rules"]) or "none"))


def run_list(args: argparse.Namespace) -> int:
    rows = store.list_specialists(args.db)
    if args.json:
        out(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    out(f"{'NAME':<16} {'MODEL':<28} {'RULES':>5}  DESCRIPTION")
    for row in rows:
        name = row["name"] + (" *" if row["is_default"] else "")
        model = row["model"] or "(default model)"
        out(f"{name:<16} {model:<28} {len(row['rules']):>5}  {row['description'][:60]}")
    out("* the default specialist")
    return 0


def run_show(args: argparse.Namespace) -> int:
    row = store.get_specialist(args.db, args.name)
    if args.json:
        out(json.dumps(row, indent=2, ensure_ascii=False))
    else:
        _print(row)
    return 0


def run_add(args: argparse.Namespace) -> int:
    row = store.save_specialist(args.db, None, name=args.name, **_values(args))
    return _done(args, row, "Added")


def run_edit(args: argparse.Namespace) -> int:
    values = _values(args)
    if args.rename:
        values["name"] = args.rename
    if not values:
        raise LanternError("Nothing to change: give at least one option (see --help).")
    row = store.save_specialist(args.db, args.name, **values)
    return _done(args, row, "Changed")


def _done(args: argparse.Namespace, row: dict[str, Any], verb: str) -> int:
    if args.json:
        out(json.dumps(row, indent=2, ensure_ascii=False))
    else:
        out(f"{verb} specialist {row['name']}.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    name = store.delete_specialist(args.db, args.name)
    if args.json:
        out(json.dumps({"removed": name}))
    else:
        out(f"Removed specialist {name}.")
    return 0
