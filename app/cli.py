"""`lantern`: the terminal front end over the same core as the window.

``lantern`` with no arguments opens the window. Every command runs after the same
start-up (folders, log file, llama.cpp log routing, database, crash recovery, starter
model) and reports failures as one line on stderr with a non-zero exit code: a
``LanternError`` says what to do; anything else is a bug, logged with its traceback.

Command modules expose ``register(subparsers)`` and set ``func(args) -> int | None`` as
the handler; ``args.db`` and ``args.paths`` are set before it runs (a parser can opt out
of the database with ``set_defaults(needs_db=False)``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import sys
from pathlib import Path

from app import __version__
from app.errors import LanternError
from app.logs import get_logger

log = get_logger("cli")

EXIT_ERROR = 1
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


COMMANDS = (
    "chat", "ask", "models", "history", "doctor", "docs", "specialists", "route", "serve", "cache"
)  # fmt: skip
"""Each is ``app.commands.<name>``, imported only when it runs (or for ``--help``), so a
command that only reads the store does not pay for llama.cpp, numpy or the hub client."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with ``command``'s subcommand only (fast), or with all of them."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="lantern",
        description="Lantern: a private, offline assistant. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"lantern {__version__}")
    parser.add_argument(
        "--self-test", action="store_true", help="check this install in a temporary folder"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (command,) if command in COMMANDS else COMMANDS:
        importlib.import_module(f"app.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        return _open_window()
    if argv[0] == "--self-test":  # before argparse: needs no start-up, touches no user data
        from app.selftest import main as self_test

        return self_test(argv[1:])
    args = build_parser(argv[0]).parse_args(argv)
    if getattr(args, "func", None) is None:
        build_parser().print_help(sys.stderr)
        return 2
    log_file: Path | None = None
    try:
        log_file = _start_logging()
        return _run(args)
    except LanternError as exc:
        log.info("command failed: %s", exc)
        return _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail("Interrupted.", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as exc:
        loop = symlink_loop(exc)
        if loop is not None:
            log.info("command failed: symbolic link loop at %s", loop)
            return _fail(
                f"{loop} is a symbolic link loop (a link that leads back to itself); "
                "give the real file or folder.",
                EXIT_ERROR,
            )
        log.exception("unexpected error in `lantern %s`", " ".join(argv))
        where = f"; details are in {log_file}" if log_file else ""
        return _fail(f"Unexpected error ({type(exc).__name__}: {exc}){where}.", EXIT_BUG)
    finally:
        _close_db(args)


def _run(args: argparse.Namespace) -> int:
    from app.commands.common import bootstrap

    if getattr(args, "needs_db", True):
        ctx = bootstrap()
        args.db, args.paths = ctx.db, ctx.paths
    else:
        from app.paths import get_paths

        args.db, args.paths = None, get_paths()
    code = args.func(args)
    return 0 if code is None else int(code)


def _start_logging() -> Path:
    from app.logs import setup_logging
    from app.paths import folders_error, get_paths

    try:
        paths = get_paths().ensure()
        setup_logging(paths.log_file)
    except OSError as exc:
        raise folders_error(exc) from exc
    return paths.log_file


def symlink_loop(exc: BaseException) -> str | None:
    """The path of a symbolic link loop that ``exc`` reports, or None.

    ``Path.resolve()`` raises ``RuntimeError("Symlink loop from '...'")`` before Python
    3.13 and ``OSError(ELOOP)`` from 3.13 on; ``open`` and ``stat`` raise ``OSError``.
    """
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        return str(exc.filename) if exc.filename else "a path"
    if isinstance(exc, RuntimeError):
        found = re.fullmatch(r"Symlink loop from (['\"])(.*)\1", str(exc))
        if found:
            return found.group(2)
    return None


def _fail(message: str, code: int) -> int:
    line = " ".join(message.split())
    with contextlib.suppress(BrokenPipeError, ValueError):
        sys.stdout.flush()
    sys.stderr.write(f"lantern: error: {line}\n" if code != EXIT_INTERRUPTED else f"{line}\n")
    sys.stderr.flush()
    return code


def _close_db(args: argparse.Namespace) -> None:
    from app.commands.common import close_context

    args.db = None
    try:
        close_context()
    except Exception:  # closing is best effort at exit
        log.exception("closing the database failed")


def _silence_stdout() -> None:
    """After a closed pipe (``lantern ... | head``), stop Python complaining at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _open_window() -> int:
    try:
        from app.ui.main import main as window_main
    except ImportError as exc:
        return _fail(
            f"The window needs PySide6, which cannot be loaded ({exc}). "
            "Install it, or use the terminal commands (`lantern --help`).",
            EXIT_ERROR,
        )
    return window_main([])


if __name__ == "__main__":
    raise SystemExit(main())
