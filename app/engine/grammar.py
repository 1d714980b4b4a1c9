"""Constrained output: GBNF grammars for llama.cpp's grammar sampler stage.

``json_schema_grammar`` turns a JSON schema into GBNF with llama-cpp-python's own
converter (``llama_cpp.llama_grammar``, a port of llama.cpp's json-schema-to-grammar);
the schema is first checked as a JSON schema (``jsonschema``). ``JSON_OBJECT`` is any
JSON object (OpenAI's ``{"type": "json_object"}``). The grammar text goes into
``SamplingOptions.grammar``; ``app.engine.sampling`` adds the stage to the chain.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from llama_cpp import llama_grammar

from app.errors import GrammarError

JSON_OBJECT: str = llama_grammar.JSON_GBNF


def json_schema_grammar(schema: Any) -> str:
    """GBNF for the JSON values ``schema`` accepts; ``GrammarError`` saying why not.
    (Cached by the schema's text: a client sends the same schema with every request.)"""
    if not isinstance(schema, dict):
        raise GrammarError('The JSON schema must be a JSON object (e.g. {"type": "object"}).')
    return _grammar(json.dumps(schema))  # key order kept: it is the answer's order


@functools.lru_cache(maxsize=64)
def _grammar(text: str) -> str:
    import jsonschema

    schema = json.loads(text)
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise GrammarError(f"The JSON schema is not valid at {where}: {exc.message}") from exc
    try:
        return str(llama_grammar.json_schema_to_gbnf(text))
    except Exception as exc:  # the converter asserts on what it cannot express
        raise GrammarError(
            f"The JSON schema uses something Lantern cannot turn into a grammar ({exc}); "
            "simplify it (types, properties, required, enum, items, $defs work)."
        ) from exc


def schema_file_grammar(path: str) -> str:
    """GBNF for the JSON schema in the file ``path`` (`lantern ask --json-schema`)."""
    try:
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    except OSError as exc:
        raise GrammarError(f"Cannot read the JSON schema file {path}: {exc.strerror}.") from exc
    except ValueError as exc:
        raise GrammarError(f"The JSON schema file {path} is not valid JSON ({exc}).") from exc
    return json_schema_grammar(schema)
