"""`lantern ask --json-schema FILE`: the answer is JSON that follows the schema (issue 14,
the CLI counterpart of the local API's response_format), real SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.cli.conftest import Run, assert_one_line_error

SCHEMA = {
    "type": "object",
    "properties": {
        "planet": {"type": "string", "maxLength": 20},
        "moons": {"type": "integer"},
        "rings": {"type": "boolean"},
    },
    "required": ["planet", "moons", "rings"],
    "additionalProperties": False,
}


def test_answer_follows_the_schema(run: Run, tmp_path: Path) -> None:
    schema = tmp_path / "planet.json"
    schema.write_text(json.dumps(SCHEMA))
    result = run("ask", "Tell me about Saturn.", "--json-schema", str(schema),
                 "--max-tokens", "60", "--json", timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)["answer"]
    jsonschema.validate(json.loads(answer), SCHEMA)


def test_bad_schema_file_is_one_clear_line(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    assert_one_line_error(run("ask", "hi", "--json-schema", str(missing)), "Cannot read")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_one_line_error(run("ask", "hi", "--json-schema", str(broken)), "not valid JSON")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "nonsense"}')
    assert_one_line_error(run("ask", "hi", "--json-schema", str(bad)), "not valid")
