"""The specialists store (app/store/specialists.py) on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.errors import SpecialistError
from app.store import specialists as store
from app.store.db import open_db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(tmp_path / "lantern.db")
    yield database
    database.close()


def test_four_examples_are_seeded_with_the_default_chat_model(db: sqlite_utils.Database) -> None:
    rows = store.list_specialists(db)
    assert [r["name"] for r in rows] == ["General", "Code", "Writing", "Documents"]
    assert all(r["model"] is None for r in rows)  # the default chat model: works with any
    assert store.default_specialist(db)["name"] == "General"
    code = store.get_specialist(db, "code")  # any case
    assert "keyword: traceback" in code["rules"]
    assert code["examples"] and code["sampling"] == "Code"
    assert "documents" in store.get_specialist(db, "Documents")["rules"]


def test_answers_get_route_columns(db: sqlite_utils.Database) -> None:
    columns = db["messages"].columns_dict
    for name in ("specialist", "route_reason", "escalation_reason"):
        assert columns[name] is str
    assert columns["confidence"] is float
    assert columns["escalated_from"] is int


def test_add_edit_rename_delete(db: sqlite_utils.Database) -> None:
    row = store.save_specialist(
        db,
        name="Legal",
        description="contracts and law",
        examples=["is this clause enforceable", " "],
        adapters=[{"name": "legal-lora", "scale": 0.5}],
        sampling={"temperature": 0.1},
        threshold=0.4,
        allow_remote=True,
        rules=["keyword: clause", "regex: \\bNDA\\b"],
    )
    assert row["examples"] == ["is this clause enforceable"]
    assert row["adapters"] == [{"name": "legal-lora", "scale": 0.5}]
    assert row["sampling"] == {"temperature": 0.1} and row["allow_remote"] is True
    assert store.list_specialists(db)[-1]["name"] == "Legal"
    edited = store.save_specialist(db, "legal", name="Law", threshold=None)
    assert edited["name"] == "Law" and edited["threshold"] is None
    assert edited["description"] == "contracts and law"  # fields not given are kept
    assert store.find_specialist(db, "Legal") is None
    assert store.delete_specialist(db, "LAW") == "Law"
    assert store.find_specialist(db, "Law") is None


def test_default_moves_and_cannot_be_deleted(db: sqlite_utils.Database) -> None:
    with pytest.raises(SpecialistError, match="default"):
        store.delete_specialist(db, "General")
    store.set_default_specialist(db, "Writing")
    assert [r["name"] for r in store.list_specialists(db) if r["is_default"]] == ["Writing"]
    assert store.delete_specialist(db, "General") == "General"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "bad@name"}, "not a usable specialist name"),
        ({"name": "Code"}, "already a specialist"),
        ({"name": "X", "rules": ["regex: ("]}, "not a valid regular expression"),
        ({"name": "X", "rules": ["keyword:"]}, "nothing after"),
        ({"name": "X", "threshold": 2}, "between 0 and 1"),
        ({"name": "X", "sampling": {"heat": 1}}, "no setting heat"),
        ({"name": "X", "adapters": [{"name": "a", "scale": "big"}]}, "not a number"),
        ({"name": "X", "colour": "red"}, "no field colour"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(
    db: sqlite_utils.Database, values: dict[str, object], message: str
) -> None:
    before = store.list_specialists(db)
    with pytest.raises(SpecialistError, match=message):
        store.save_specialist(db, **values)
    assert store.list_specialists(db) == before


def test_missing_specialist_names_the_existing_ones(db: sqlite_utils.Database) -> None:
    with pytest.raises(SpecialistError, match="General, Code, Writing, Documents"):
        store.get_specialist(db, "Nope")


def test_rule_grammar() -> None:
    assert store.parse_rule("Traceback") == store.Rule("keyword", "traceback", "Traceback")
    assert store.parse_rule("file: PY").value == ".py"
    assert store.parse_rule("documents attached").kind == "documents"
    assert store.parse_rule("regex: ^def ").value == "^def"
