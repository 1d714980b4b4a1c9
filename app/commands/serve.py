"""`lantern serve [--host 127.0.0.1] [--port 8765] [--key KEY] [--new-key] [--cors ORIGIN]`:
the local OpenAI-compatible API (``app.api``) under uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys

from app.errors import LanternError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve the models over an OpenAI-compatible HTTP API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free one)")
    p.add_argument("--key", metavar="KEY", help="require this API key (kept hashed)")
    p.add_argument(
        "--new-key", action="store_true", help="make a new API key, show it once, keep its hash"
    )
    p.add_argument(
        "--cors",
        metavar="ORIGIN",
        action="append",
        default=None,
        help="allow browser calls from this origin (repeatable; default: CORS off)",
    )
    p.set_defaults(func=run)


def _key_hash(args: argparse.Namespace, loopback: bool) -> str | None:
    """The hash requests' keys are checked against, or None (no key: loopback only)."""
    from app.api.keys import hash_key, new_key
    from app.store.settings import get_setting, set_setting

    if args.key:
        if len(args.key) < 16:
            raise LanternError("The API key is too short: use at least 16 characters.")
        hashed = hash_key(args.key)
        set_setting(args.db, "api.key_hash", hashed)
        return hashed
    stored = get_setting(args.db, "api.key_hash")
    if args.new_key or (stored is None and not loopback):
        key = new_key()
        stored = hash_key(key)
        set_setting(args.db, "api.key_hash", stored)
        print(f"API key (shown once; only its hash is kept): {key}", flush=True)
    if loopback and not args.new_key and not args.key:
        return None  # loopback: no key asked unless one is given now
    return str(stored)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from app.api.server import LOOPBACK, ServerConfig, create_app
    from app.store.settings import get_setting

    # The HTTP loop's thread and the model's thread share the GIL: a 1 ms switch interval
    # (default 5 ms) hands it to the loop sooner when a token is ready (bench/api_ttft.py).
    sys.setswitchinterval(0.001)
    loopback = args.host in LOOPBACK
    key_hash = _key_hash(args, loopback)
    origins = args.cors or [
        o.strip() for o in (get_setting(args.db, "api.cors_origins") or "").split(",") if o.strip()
    ]
    config = ServerConfig(
        db_path=args.paths.db,
        key_hash=key_hash,
        cors_origins=tuple(origins),
        queue_size=int(get_setting(args.db, "api.queue_size")),
        freeze_gc=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=args.host,
            port=args.port,
            log_level="warning",
            log_config=None,  # uvicorn's messages go to Lantern's log file
            # uvloop and httptools where installed (pyproject): request parsing and the
            # loop's wake-ups cost less before the first token (bench/api_ttft.py)
            loop="auto",
            http="auto",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    )
    _announce(server, args.host, key_hash is not None)
    _log_to_lantern("uvicorn")
    with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind: said below
        server.run()
    if not server.started:
        raise LanternError(
            f"Cannot listen on {args.host}:{args.port} (the port is in use or the address "
            "is not this computer's); pick another with --port or --host."
        )
    return 0


def _log_to_lantern(name: str) -> None:
    """``name``'s messages go to Lantern's log file, not to the terminal."""
    target = logging.getLogger(name)
    for handler in logging.getLogger("lantern").handlers:
        target.addHandler(handler)
    target.propagate = False


def _announce(server: object, host: str, keyed: bool) -> None:
    """Say where the server listens once it does (the port may have been chosen by the OS)."""
    import threading
    import time

    def wait() -> None:
        while not getattr(server, "started", False):
            if getattr(server, "should_exit", False):
                return
            time.sleep(0.05)
        sockets = [s for srv in getattr(server, "servers", []) for s in srv.sockets]
        port = sockets[0].getsockname()[1] if sockets else "?"
        shown = f"[{host}]" if ":" in host else host
        key = " (API key required)" if keyed else ""
        print(f"Lantern API on http://{shown}:{port}/v1{key}", flush=True)
        sys.stdout.flush()

    threading.Thread(target=wait, daemon=True).start()
