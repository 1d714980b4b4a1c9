"""``response_format`` through llama.cpp grammars, with the official `openai` client
against `lantern serve` (a real subprocess, SmolLM2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel, Field

from tests.api.conftest import Served, start_server, stop_server
from tests.cli.conftest import REPO, cli_env

pytestmark = pytest.mark.slow
MODEL = "SmolLM2-135M-Instruct"
CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 24},
        "country": {"type": "string", "maxLength": 24},
        "population_millions": {"type": "integer"},
        "coastal": {"type": "boolean"},
    },
    "required": ["city", "country", "population_millions", "coastal"],
    "additionalProperties": False,
}


class Pet(BaseModel):
    name: str = Field(max_length=16)
    species: str = Field(max_length=16)
    legs: int


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAI]:
    home: Path = tmp_path_factory.mktemp("api-format")
    subprocess.run(
        [sys.executable, "-m", "app", "models", "list"], cwd=REPO, env=cli_env(home),
        check=True, capture_output=True,
    )  # fmt: skip
    served: Served = start_server(home)
    try:
        yield OpenAI(base_url=served.base_url, api_key="loopback", max_retries=0, timeout=600)
    finally:
        stop_server(served)


def _ask(client: OpenAI, fmt: dict[str, object], **more: object) -> str:
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell me about Lisbon."}],
        max_tokens=90,
        temperature=0,
        response_format=fmt,  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )
    assert r.choices[0].finish_reason == "stop"  # ended by the model, not cut by max_tokens
    return r.choices[0].message.content or ""


def test_json_schema_answer_validates(client: OpenAI) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY, "strict": True}}
    text = _ask(client, fmt)
    value = json.loads(text)
    jsonschema.validate(value, CITY)
    assert list(value) == list(CITY["properties"])  # type: ignore[call-overload]


def test_free_text_answer_is_not_that_json(client: OpenAI) -> None:
    """The same request without response_format: the grammar is what made it JSON."""
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me about Lisbon."}],
        max_tokens=12, temperature=0,
    )  # fmt: skip
    with pytest.raises(ValueError):
        json.loads(r.choices[0].message.content or "")


def test_json_object_streams_an_object(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Give the capital of Italy as JSON."}],
        max_tokens=90, temperature=0, stream=True, response_format={"type": "json_object"},
    )  # fmt: skip
    pieces, finish = [], None
    for chunk in stream:
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert finish == "stop"
    assert isinstance(json.loads("".join(pieces)), dict)


def test_openai_parse_with_a_pydantic_model(client: OpenAI) -> None:
    """The client's own structured-output helper: it sends the model's strict schema and
    parses the answer back into the class."""
    r = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe a pet."}],
        max_tokens=90, temperature=0, response_format=Pet,
    )  # fmt: skip
    pet = r.choices[0].message.parsed
    assert isinstance(pet, Pet)


@pytest.mark.parametrize(
    ("fmt", "code"),
    [
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}},
         "invalid_json_schema"),
        ({"type": "json_schema", "json_schema": {"name": "x"}}, "invalid_json_schema"),
        ({"type": "json_schema", "json_schema": {"name": "x",
                                                 "schema": {"$ref": "#/$defs/none"}}},
         "invalid_json_schema"),
        ({"type": "yaml"}, "unsupported_response_format"),
    ],
)  # fmt: skip
def test_bad_response_format_is_400_in_openai_shape(
    client: OpenAI, fmt: dict[str, object], code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4,
            response_format=fmt,  # type: ignore[arg-type]
        )  # fmt: skip
    assert err.value.status_code == 400
    body = err.value.body
    assert isinstance(body, dict)
    assert body["code"] == code and body["param"] == "response_format"
    assert body["type"] == "invalid_request_error" and body["message"]
