"""`lantern serve` as a real subprocess on a free loopback port, private LANTERN_HOME."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.models.registry import import_model
from app.store.db import open_db
from tests.cli.conftest import REPO, cli_env
from tests.fixtures.minilm_gguf import minilm_gguf_path


@dataclass
class Served:
    base_url: str  # http://127.0.0.1:PORT/v1
    process: subprocess.Popen[str]
    home: Path
    key: str | None = None

    def rss_bytes(self) -> int:
        import psutil

        return int(psutil.Process(self.process.pid).memory_info().rss)


def start_server(home: Path, *args: str, timeout: float = 120) -> Served:
    """Run ``python -m app serve --port 0 ARGS`` and wait for its address line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", *args],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    key = None
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"lantern serve exited ({proc.wait()})")
        if m := re.search(r"API key \(shown once.*\): (\S+)", line):
            key = m.group(1)
        if m := re.search(r"Lantern API on (http://\S+/v1)", line):
            return Served(m.group(1), proc, home, key)
    proc.kill()
    raise AssertionError("lantern serve did not start in time")


def stop_server(served: Served) -> None:
    served.process.send_signal(2)  # SIGINT: uvicorn shuts down, the worker frees the model
    try:
        served.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()
    if served.process.stdout is not None:
        served.process.stdout.close()


def add_embedder(home: Path) -> None:
    """Register the converted all-MiniLM GGUF as the embedding model of ``home``."""
    home_db = open_db(home / "data" / "lantern.db")
    try:
        import_model(home_db, minilm_gguf_path(), home / "data" / "models", copy=False)
    finally:
        home_db.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module (SmolLM2 is the starter model; all-MiniLM embeds)."""
    home = tmp_path_factory.mktemp("api-home")
    subprocess.run(
        [sys.executable, "-m", "app", "models", "list"], cwd=REPO, env=cli_env(home),
        check=True, capture_output=True,
    )  # fmt: skip
    add_embedder(home)
    notes = home / "notes.txt"
    notes.write_text("Lantern facts.\nThe vault code of the Lantern test lab is 4471.\n")
    subprocess.run(
        [sys.executable, "-m", "app", "docs", "add", "--collection", "notes", "--keyword-only",
         str(notes)], cwd=REPO, env=cli_env(home), check=True, capture_output=True,
    )  # fmt: skip
    server = start_server(home)
    with urllib.request.urlopen(server.base_url.removesuffix("/v1") + "/health", timeout=30) as r:
        assert r.status == 200
    yield server
    stop_server(server)
