"""`lantern specialists endpoints list|add|remove`: remote OpenAI-compatible servers a
specialist may escalate to (``--fallback remote:NAME``) or answer with
(``--model remote:NAME``), once it allows remote use (``--allow-remote``).

The key is read from standard input (``--key-stdin``), never from the command line (it
would stay in the shell's history); it goes to the OS keyring where one exists, else to
the private database with a warning (``app.store.remote_endpoints``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.commands.common import note, out
from app.store import remote_endpoints as store


def register(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = cmds.add_parser("endpoints", help="remote servers specialists may use")
    sub = p.add_subparsers(dest="endpoints_command", metavar="COMMAND", required=True)
    ls = sub.add_parser("list", help="list the remote endpoints")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=run_list)
    add = sub.add_parser("add", help="add or change a remote endpoint")
    add.add_argument("name")
    add.add_argument("url", help="the server's OpenAI base URL, e.g. http://host:8000/v1")
    add.add_argument("model", help="the model name the server serves")
    add.add_argument("--key-stdin", action="store_true", help="read the API key from stdin")
    add.add_argument("--timeout", type=float, default=60.0, metavar="S",
                     help="seconds to wait for the server (default 60)")  # fmt: skip
    add.add_argument("--no-stream", action="store_true",
                     help="ask for whole answers (for servers that cannot stream)")  # fmt: skip
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(func=run_add)
    rm = sub.add_parser("remove", help="remove a remote endpoint (and its key)")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """The row without the key itself."""
    return {k: v for k, v in row.items() if k != "api_key"}


def run_list(args: argparse.Namespace) -> int:
    rows = [_public(r) for r in store.list_endpoints(args.db)]
    if args.json:
        out(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        key = {"keyring": "key in keyring", "database": "key in database"}.get(
            row["key_in"] or "", "no key"
        )
        out(f"{row['name']:<16} {row['model']:<24} {row['base_url']}  ({key})")
    if not rows:
        note("No remote endpoints; add one with `lantern specialists endpoints add`.")
    return 0


def run_add(args: argparse.Namespace) -> int:
    key = sys.stdin.readline().strip() if args.key_stdin else None
    row, warning = store.add_endpoint(
        args.db, args.name, args.url, args.model, key or None, args.timeout,
        stream=not args.no_stream, keep_key=not args.key_stdin,
    )  # fmt: skip
    if warning:
        note(warning)
    if args.json:
        out(json.dumps(_public(row), indent=2))
    else:
        out(f"Saved remote endpoint {row['name']} ({row['model']} at {row['base_url']}).")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    name = store.get_endpoint(args.db, args.name)["name"]
    store.remove_endpoint(args.db, name)
    out(f"Removed remote endpoint {name}.")
    return 0
