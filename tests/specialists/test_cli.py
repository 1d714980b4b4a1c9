"""`lantern specialists ...`, `lantern route ...` and `lantern ask --specialist` as real
subprocesses with a private LANTERN_HOME."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Run
from tests.cli.conftest import run as run  # the fixture
from tests.fixtures.llama_cpp_server import StartServer, llama_cpp_server_fixture

__all__ = ["llama_cpp_server_fixture"]  # the llama_cpp_server fixture


def test_list_and_show(run: Run) -> None:
    listed = run("specialists", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == [
        "General", "Code", "Writing", "Documents",
    ]  # fmt: skip
    shown = run("specialists", "show", "code")
    assert shown.returncode == 0 and "keyword: traceback" in shown.stdout
    assert "the default chat model" in shown.stdout


def test_add_edit_remove(run: Run) -> None:
    added = run(
        "specialists", "add", "Cooking", "--description", "recipes and cooking",
        "--example", "how long to roast a chicken", "--rule", "keyword: recipe",
        "--sampling", "Creative", "--threshold", "0.4", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    row = json.loads(added.stdout)
    assert row["rules"] == ["keyword: recipe"] and row["threshold"] == 0.4
    edited = run("specialists", "edit", "cooking", "--rename", "Kitchen", "--rule", "none")
    assert edited.returncode == 0 and "Changed specialist Kitchen." in edited.stdout
    shown = json.loads(run("specialists", "show", "Kitchen", "--json").stdout)
    assert shown["rules"] == [] and shown["description"] == "recipes and cooking"
    assert run("specialists", "remove", "Kitchen").returncode == 0
    assert run("specialists", "show", "Kitchen").returncode != 0


def test_bad_input_is_one_clear_line(run: Run) -> None:
    bad = run("specialists", "add", "X", "--rule", "regex: (")
    assert bad.returncode != 0 and "not a valid regular expression" in bad.stderr
    assert "Traceback" not in bad.stderr
    gone = run("specialists", "remove", "General")
    assert gone.returncode != 0 and "default specialist" in gone.stderr


def test_route_prints_specialist_model_reason_without_generating(run: Run) -> None:
    routed = run("route", "I get a traceback when it starts", "--json")
    assert routed.returncode == 0, routed.stderr
    payload = json.loads(routed.stdout)
    assert payload["specialist"] == "Code" and payload["model"] == "SmolLM2-135M-Instruct"
    assert payload["reason"] == "Code: matched 'traceback'"
    assert payload["scores"] == {}
    plain = run("route", "what's a nice name for a cat")
    assert plain.returncode == 0 and plain.stdout.startswith("General")
    assert "Semantic routing is off" in plain.stderr  # no embedding model installed


def test_ask_with_a_specialist_reports_it(run: Run) -> None:
    asked = run("ask", "Say hi", "--specialist", "writing", "--max-tokens", "8", "--json")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["specialist"] == "Writing"
    assert payload["reason"] == "Writing: chosen by you"
    assert payload["escalated"] is False
    routed = json.loads(run("ask", "a traceback?", "--max-tokens", "4", "--json").stdout)
    assert (routed["specialist"], routed["reason"]) == ("Code", "Code: matched 'traceback'")
    unknown = run("ask", "hi", "--specialist", "Nobody")
    assert unknown.returncode != 0 and "no specialist 'Nobody'" in unknown.stderr


def test_doctor_reports_the_model_pool(run: Run) -> None:
    assert run("specialists", "list").returncode == 0  # registers the starter model
    report = run("doctor", "--json")
    pool = json.loads(report.stdout)["pool"]
    assert pool["max_models"] == 2 and pool["budget_bytes"] > 0 and pool["models"] == []
    assert pool["estimates"]["SmolLM2-135M-Instruct"] > 98_000_000  # weights + KV + runtime
    plain = run("doctor")
    assert "Model pool  up to 2 models within" in plain.stdout


def test_ask_json_reports_an_escalation(run: Run, gemma_path: Path) -> None:
    imported = run("models", "import", str(gemma_path), "--in-place", "--name", "gemma")
    assert imported.returncode == 0, imported.stderr
    edited = run("specialists", "edit", "General", "--fallback", "gemma", "--threshold", "0.99")
    assert edited.returncode == 0, edited.stderr
    asked = run("ask", "@General Tell me about owls.", "--max-tokens", "12", "--json")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["escalated"] is True and payload["model"] == "gemma"
    assert payload["specialist"] == "General"
    assert payload["escalation_reason"].startswith("confidence ")
    assert payload["escalation_reason"].endswith(" under 0.99")
    plain = run("ask", "@General Tell me about owls.", "--max-tokens", "12")
    assert plain.returncode == 0, plain.stderr
    first, line, second = plain.stdout.strip().split("\n\n", 2)[:3]
    assert first.strip() and second.strip()  # both answers, with a line between them
    assert re.fullmatch(r"— escalated to gemma: confidence 0\.\d\d under 0\.99 —", line)


def test_ask_escalates_to_a_remote_server(
    run: Run, llama_cpp_server: StartServer, smollm2_path: Path
) -> None:
    base, _ = llama_cpp_server(
        smollm2_path, "--model_alias", "team-model", api_key="k-123", n_threads=1
    )
    added = run("specialists", "endpoints", "add", "team", base, "team-model", "--key-stdin",
                "--timeout", "600",
                input="k-123\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "No OS keyring" in added.stderr  # the key went to the private database
    listed = json.loads(run("specialists", "endpoints", "list", "--json").stdout)
    assert [(e["name"], e["key_in"]) for e in listed] == [("team", "database")]
    assert "api_key" not in listed[0]
    edited = run("specialists", "edit", "General", "--fallback", "remote:team",
                 "--allow-remote", "--threshold", "0.99")  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    asked = run("ask", "@General Tell me about owls.", "--max-tokens", "12", "--json")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["escalated"] is True and payload["remote"] == "team"
    assert payload["model"] == "team-model" and payload["answer"].strip()
    plain = run("ask", "@General Tell me about owls.", "--max-tokens", "12")
    assert "— escalated to team (remote server): confidence " in plain.stdout
    again = run("specialists", "endpoints", "add", "team", base, "team-model", "--key-stdin",
                "--timeout", "600",
                input="wrong-key\n")  # fmt: skip
    assert again.returncode == 0, again.stderr
    refused = run("ask", "@General Tell me about owls.", "--max-tokens", "12", "--json")
    assert refused.returncode == 0, refused.stderr  # the local answer is the answer
    payload = json.loads(refused.stdout)
    assert payload["remote"] is None and payload["answer"].strip()
    assert "refused" in payload["escalation_error"]
    assert "own answer is kept" in payload["escalation_error"]


def test_a_specialist_collection_grounds_its_answers(run: Run, tmp_path: Path) -> None:
    doc = tmp_path / "lighthouse.md"
    doc.write_text(
        "# Harbor Lighthouse\n\nThe Harbor Lighthouse was built in 1871 by the engineer "
        "Mara Quill.\n",
        encoding="utf-8",
    )
    assert run("docs", "add", str(doc), "--collection", "harbor").returncode == 0
    edited = run("specialists", "edit", "Documents", "--collection", "harbor")
    assert edited.returncode == 0, edited.stderr
    asked = run("ask", "@Documents Who built the lighthouse?", "--max-tokens", "16", "--json")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["specialist"] == "Documents"
    [source] = payload["sources"]
    assert Path(source["file"]) == doc and "Mara Quill" in source["text"]
    plain = json.loads(run("ask", "@General Who built it?", "--max-tokens", "4", "--json").stdout)
    assert "sources" not in plain  # another specialist does not draw on that collection
