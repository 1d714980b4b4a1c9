"""Grammar-constrained answers (issue 14): the sampler's grammar stage with real SmolLM2."""

from __future__ import annotations

import json

import jsonschema
import pytest

from app.engine.grammar import JSON_OBJECT, json_schema_grammar
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions, TextEvent
from app.errors import GrammarError

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer"},
        "pet": {"enum": ["cat", "dog", "none"]},
    },
    "required": ["name", "age", "pet"],
    "additionalProperties": False,
}


def _answer(smol: ChatSession, question: str, sampling: SamplingOptions) -> tuple[str, ReplyStats]:
    events = list(smol.reply([ChatMessage("user", question)], sampling))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    return "".join(e.text for e in events if isinstance(e, TextEvent)), stats


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_answer_follows_the_json_schema(smol: ChatSession, temperature: float) -> None:
    grammar = json_schema_grammar(PERSON)
    options = SamplingOptions(temperature=temperature, max_tokens=80, seed=3, grammar=grammar)
    text, stats = _answer(smol, "Describe a person as JSON.", options)
    assert stats.stop_reason == "eos"  # the grammar was complete, then the model could end
    jsonschema.validate(json.loads(text), PERSON)


def test_without_the_grammar_the_same_answer_is_not_that_json(smol: ChatSession) -> None:
    text, _ = _answer(
        smol, "Describe a person as JSON.", SamplingOptions(temperature=0.0, max_tokens=16)
    )
    with pytest.raises((ValueError, jsonschema.ValidationError)):
        jsonschema.validate(json.loads(text), PERSON)


def test_json_object_grammar_gives_an_object(smol: ChatSession) -> None:
    options = SamplingOptions(temperature=0.0, max_tokens=120, grammar=JSON_OBJECT)
    text, stats = _answer(smol, "List two fruits.", options)
    if stats.stop_reason == "eos":
        assert isinstance(json.loads(text), dict)
    else:  # cut at max_tokens: still the start of an object
        assert text.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "nonsense"}, "not valid"),
        ({"type": "object", "required": "name"}, "not valid"),
        ([1, 2], "must be a JSON object"),
        ({"$ref": "#/$defs/missing"}, "cannot turn into a grammar"),
    ],
)
def test_bad_schema_is_a_clear_error(schema: object, says: str) -> None:
    with pytest.raises(GrammarError, match=says):
        json_schema_grammar(schema)


def test_unparsable_grammar_is_a_grammar_error(smol: ChatSession) -> None:
    with pytest.raises(GrammarError):
        _answer(smol, "Hi", SamplingOptions(max_tokens=4, grammar='root ::= "unclosed'))


def test_unparsable_grammar_is_refused_by_the_reply_call_itself(smol: ChatSession) -> None:
    """Before any event, as a prompt over the context is: the local API answers 400 for
    what ``reply`` refuses and only then starts its stream."""
    bad = SamplingOptions(max_tokens=4, grammar='root ::= "unclosed')
    with pytest.raises(GrammarError):
        smol.reply([ChatMessage("user", "Hi")], bad)  # not iterated
    text, _ = _answer(smol, "Hi", SamplingOptions(max_tokens=4))  # the session still works
    assert text
