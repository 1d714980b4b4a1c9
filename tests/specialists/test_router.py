"""The router (app/chat/router.py): @name, rules, semantic match with real MiniLM, default."""

from __future__ import annotations

import pytest
import sqlite_utils

from app.chat.router import (
    MIN_SIMILARITY,
    MIN_SIMILARITY_WITHOUT_DOCUMENTS,
    SEMANTIC_OFF,
    Router,
)
from app.errors import SpecialistError
from app.knowledge.embed import Embedder
from app.store import specialists as store


def test_explicit_name_wins_over_rules(db: sqlite_utils.Database) -> None:
    decision = Router(db).route("@writing fix this Traceback in my email")
    assert decision.name == "Writing" and decision.method == "explicit"
    assert decision.text == "fix this Traceback in my email"
    assert decision.reason == "Writing: asked for by @Writing"


def test_unknown_name_is_a_clear_error(db: sqlite_utils.Database) -> None:
    with pytest.raises(SpecialistError, match=r"no specialist '@Poetry'.*@Code"):
        Router(db).route("@Poetry a haiku please")


def test_an_email_address_is_not_a_mention(db: sqlite_utils.Database) -> None:
    assert Router(db).route("what is 2+2").method == "default"


def test_keyword_rule_gives_the_reason(db: sqlite_utils.Database) -> None:
    decision = Router(db).route("I get a traceback when I start it")
    assert decision.name == "Code" and decision.method == "rule"
    assert decision.reason == "Code: matched 'traceback'"


def test_file_type_and_documents_rules(db: sqlite_utils.Database) -> None:
    router = Router(db)
    assert router.route("look at this", attachments=["main.rs"]).reason == (
        "Code: a .rs file is attached"
    )
    assert router.route("what does it say about pets", documents=True).name == "Documents"


def test_user_rules_route_to_a_new_specialist(db: sqlite_utils.Database) -> None:
    store.save_specialist(db, name="Cooking", rules=["keyword: recipe", r"regex: \bbake[ds]?\b"])
    decision = Router(db).route("Got a recipe for banana bread?")
    assert (decision.name, decision.reason) == ("Cooking", "Cooking: matched 'recipe'")


def test_without_an_embedding_model_rules_and_default_still_work(
    db: sqlite_utils.Database,
) -> None:
    router = Router(db, lambda: None)
    decision = router.route("how long do I boil an egg")
    assert decision.name == "General" and decision.method == "default"
    assert decision.semantic is False and decision.semantic_off == SEMANTIC_OFF
    assert router.route("KeyError: 'x' in my dict").name == "Code"
    assert not router.semantic_available()


def test_semantic_match_names_the_closest_example(
    db: sqlite_utils.Database, embedder: Embedder
) -> None:
    router = Router(db, lambda: embedder)
    decision = router.route("could you polish the wording of my letter to the council")
    assert decision.name == "Writing" and decision.method == "semantic"
    assert decision.reason.startswith("Writing: closest to '")
    assert decision.scores["Writing"] == max(decision.scores.values())
    assert set(decision.scores) == {"General", "Code", "Writing", "Documents"}
    figure = float(decision.reason.rsplit(" ", 1)[1])
    assert figure == pytest.approx(decision.scores["Writing"], abs=0.006)


def test_a_documents_specialist_needs_a_closer_match_in_a_chat_without_documents(
    db: sqlite_utils.Database, embedder: Embedder
) -> None:
    """Seen in the window: "one fact about Mars" went to Documents at 0.27 in a chat with
    no documents. With documents the same score would still route there."""
    router = Router(db, lambda: embedder)
    text = "Now tell me one fact about Mars in two sentences."
    alone = router.route(text)
    assert alone.name == "General" and alone.method == "default"
    near = alone.scores["Documents"]
    assert MIN_SIMILARITY <= near < MIN_SIMILARITY_WITHOUT_DOCUMENTS
    assert near == max(alone.scores.values())  # it was the closest, and is not taken
    attached = router.route(text, documents=True, use_rules=False)  # meaning alone
    assert attached.name == "Documents" and attached.method == "semantic"


def test_semantic_vectors_are_cached(db: sqlite_utils.Database, embedder: Embedder) -> None:
    router = Router(db, lambda: embedder)
    router.route("could you polish the wording of my letter", use_rules=False)
    texts = embedder.stats.texts
    router.route("another message entirely", use_rules=False)
    assert embedder.stats.texts == texts + 1  # only the new message was embedded


def test_rules_only_mode_and_override(db: sqlite_utils.Database, embedder: Embedder) -> None:
    router = Router(db, lambda: embedder)
    assert router.route("polish my letter", use_semantic=False).method == "default"
    picked = router.override("code", "hello")
    assert (picked.name, picked.method) == ("Code", "override")
    assert picked.reason == "Code: chosen by you"
