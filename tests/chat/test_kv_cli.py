"""`lantern ask --conversation ID` in a new process reuses the saved KV cache;
`lantern cache info|clear` and `lantern doctor` report and clear it (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import run_cli


def ask(home: Path, *args: str) -> dict:  # type: ignore[type-arg]
    done = run_cli(home, "ask", *args, "--json", "--max-tokens", "12")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_ask_in_a_new_process_evaluates_only_the_new_question(lantern_home: Path) -> None:
    first = ask(lantern_home, "Tell me about owls and where they live.")
    cid = str(first["conversation_id"])
    second = ask(lantern_home, "What do they eat?", "--conversation", cid)
    stats = second["stats"]
    assert stats["evaluated_prompt_tokens"] < 40 < stats["prompt_tokens"]

    info = run_cli(lantern_home, "cache", "info", "--json")
    assert info.returncode == 0, info.stderr
    report = json.loads(info.stdout)
    assert report["files"] == 1 and report["bytes"] > 0
    assert report["states"][0]["tokens"] > stats["prompt_tokens"] // 2
    doctor = run_cli(lantern_home, "doctor", "--json")
    assert json.loads(doctor.stdout)["kv_cache"]["files"] == 1

    cleared = run_cli(lantern_home, "cache", "clear")
    assert cleared.returncode == 0 and "Deleted 1 saved KV caches" in cleared.stdout
    third = ask(lantern_home, "Are they clever?", "--conversation", cid)
    assert third["stats"]["evaluated_prompt_tokens"] == third["stats"]["prompt_tokens"]
