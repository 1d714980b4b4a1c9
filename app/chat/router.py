"""Which specialist answers a message, and why.

``Router.route(text, attachments=..., documents=...)`` decides, in order:

(a) an explicit ``@name`` at the start of the message (the name is removed from the text
    the model sees),
(b) the user's rules (keywords, regular expressions, attached file types, "documents"
    attached): the specialist with the most matching rules wins, ties by list order,
(c) semantic match of the message against each specialist's description and examples
    with the default embedding model (their vectors are cached per model and text): the
    closest wins when its cosine similarity reaches ``MIN_SIMILARITY``,
(d) the default specialist.

The ``RouteDecision`` names the specialist, the model that will answer, a reason for the
user ("Code: matched 'traceback'", "Writing: closest to 'rewrite this email' 0.61"), the
semantic scores, and whether semantic routing was available (no embedding model
installed: rules and the default still work; ``semantic_off`` says why). Qt-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

import numpy as np
import sqlite_utils

from app.logs import get_logger
from app.store import specialists as store
from app.store.specialists import Rule, parse_rule

log = get_logger("chat")

Method = Literal["explicit", "rule", "semantic", "default", "override"]
MIN_SIMILARITY = 0.25
MIN_SIMILARITY_WITHOUT_DOCUMENTS = 0.35
"""A specialist for documents (a ``documents`` rule) in a chat that has none must be
closer than this: "tell me a fact about Mars" is 0.27 from "summarise the attached report"."""
"""Below this cosine similarity no specialist is 'close' and the default answers."""
SEMANTIC_OFF = "Semantic routing is off: no embedding model is installed."
_MENTION = re.compile(r"^\s*@([A-Za-z0-9][A-Za-z0-9_-]*)\b[\s,:]*", re.UNICODE)


@dataclass(frozen=True)
class RouteDecision:
    specialist: dict[str, Any]  # the specialist row (app.store.specialists)
    model: str | None  # the model it asks for (None: the default chat model)
    reason: str  # for the user: "Code: matched 'traceback'"
    method: Method
    text: str  # the message as the model sees it (without the ``@name``)
    scores: dict[str, float] = field(default_factory=dict)  # semantic similarity per name
    semantic: bool = False  # semantic routing was available for this decision
    semantic_off: str | None = None  # why not, when it was not

    @property
    def name(self) -> str:
        return str(self.specialist["name"])

    def as_json(self) -> dict[str, Any]:
        return {
            "specialist": self.name,
            "model": self.model,
            "reason": self.reason,
            "method": self.method,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "semantic": self.semantic,
            "semantic_off": self.semantic_off,
        }


EmbedderSource = Callable[[], Any]
"""Returns an object with ``embed(list[str]) -> (n, dim)`` unit vectors and ``model_id``,
or ``None`` when no embedding model is installed (``KeptEmbedder.current``)."""


class Router:
    """Routes messages for one database on its owner thread (the embedder's thread)."""

    def __init__(self, db: sqlite_utils.Database, embedder: EmbedderSource | None = None) -> None:
        self.db = db
        self._embedder = embedder
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # (model id, text) -> vector

    def route(
        self,
        text: str,
        *,
        attachments: Sequence[str] = (),
        documents: bool = False,
        use_rules: bool = True,
        use_semantic: bool = True,
    ) -> RouteDecision:
        """The specialist for ``text`` (``attachments``: file names sent with it;
        ``documents``: the conversation has documents to draw on)."""
        specialists = store.list_specialists(self.db)
        if not specialists:
            raise store.SpecialistError("There are no specialists; add one first.")
        mentioned = self._mention(text, specialists)
        if mentioned is not None:
            row, rest = mentioned
            return self._decision(row, f"{row['name']}: asked for by @{row['name']}",
                                  "explicit", rest or text)  # fmt: skip
        if use_rules:
            ruled = _by_rules(specialists, text, attachments, documents)
            if ruled is not None:
                row, why = ruled
                return self._decision(row, f"{row['name']}: {why}", "rule", text)
        embedder = self._current_embedder() if use_semantic else None
        off = SEMANTIC_OFF if use_semantic and embedder is None else None
        scores: dict[str, float] = {}
        if embedder is not None:
            scores, best, example = self._semantic(embedder, specialists, text)
            if best is not None and scores[best["name"]] >= _bar(best, documents):
                reason = f"{best['name']}: closest to '{example}' {scores[best['name']]:.2f}"
                return self._decision(best, reason, "semantic", text, scores, True)
        default = store.default_specialist(self.db) or specialists[0]
        why = "nothing else matched" if embedder is None else "no specialist was close"
        return self._decision(
            default, f"{default['name']}: default ({why})", "default", text, scores,
            embedder is not None, off,
        )  # fmt: skip

    def mention(self, text: str) -> RouteDecision | None:
        """The decision of a leading ``@name`` alone (None without one)."""
        if not text.lstrip().startswith("@"):  # no specialist rows to read (the local API)
            return None
        mentioned = self._mention(text, store.list_specialists(self.db))
        if mentioned is None:
            return None
        row, rest = mentioned
        return self._decision(row, f"{row['name']}: asked for by @{row['name']}",
                              "explicit", rest or text)  # fmt: skip

    def override(self, name: str, text: str) -> RouteDecision:
        """The decision when the user picked the specialist (re-run with another)."""
        row = store.get_specialist(self.db, name)
        return self._decision(row, f"{row['name']}: chosen by you", "override", text)

    def semantic_available(self) -> bool:
        return self._current_embedder() is not None

    # -- parts ---------------------------------------------------------------------------

    def _decision(
        self,
        row: dict[str, Any],
        reason: str,
        method: Method,
        text: str,
        scores: dict[str, float] | None = None,
        semantic: bool = False,
        off: str | None = None,
    ) -> RouteDecision:
        return RouteDecision(row, row.get("model"), reason, method, text, scores or {},
                             semantic, off)  # fmt: skip

    def _mention(
        self, text: str, specialists: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], str] | None:
        """(the specialist named by a leading ``@name``, the text after it)."""
        if not text.lstrip().startswith("@"):
            return None
        body = text.lstrip()[1:]
        for row in sorted(specialists, key=lambda r: -len(r["name"])):  # longest name first
            name = row["name"]
            if body[: len(name)].lower() == name.lower():
                after = body[len(name) :]
                if not after or not (after[0].isalnum() or after[0] in "_-"):
                    return row, after.lstrip(" ,:\t\n")
        match = _MENTION.match(text)
        if match:
            known = ", ".join("@" + r["name"] for r in specialists)
            raise store.SpecialistError(
                f"There is no specialist '@{match.group(1)}'; use one of {known}, or "
                "leave the @ out."
            )
        return None

    def _current_embedder(self) -> Any:
        if self._embedder is None:
            return None
        try:
            return self._embedder()
        except Exception as exc:  # a broken embedding model must not stop the chat
            log.warning("semantic routing unavailable: %s", exc)
            return None

    def _vectors_for(self, embedder: Any, texts: list[str]) -> np.ndarray:
        model_id = str(getattr(embedder, "model_id", "embedder"))
        missing = [t for t in dict.fromkeys(texts) if (model_id, t) not in self._vectors]
        if missing:
            for t, vec in zip(missing, embedder.embed(missing), strict=True):
                self._vectors[(model_id, t)] = np.asarray(vec, dtype=np.float32)
        return np.stack([self._vectors[(model_id, t)] for t in texts])

    def _semantic(
        self, embedder: Any, specialists: list[dict[str, Any]], text: str
    ) -> tuple[dict[str, float], dict[str, Any] | None, str]:
        """(best similarity per specialist, the closest specialist, its closest text)."""
        owners: list[tuple[dict[str, Any], str]] = []
        for row in specialists:
            for item in [*row["examples"], row["description"]]:
                if item:
                    owners.append((row, item))
        if not owners:
            return {}, None, ""
        matrix = self._vectors_for(embedder, [t for _, t in owners])
        query = np.asarray(embedder.embed([text])[0], dtype=np.float32)
        sims = matrix @ query
        scores: dict[str, float] = {}
        best_i = int(np.argmax(sims))
        for (row, _), sim in zip(owners, sims, strict=True):
            scores[row["name"]] = max(scores.get(row["name"], -1.0), float(sim))
        return scores, owners[best_i][0], owners[best_i][1]


def _bar(row: dict[str, Any], documents: bool) -> float:
    """The similarity a semantic match to ``row`` needs (see ``MIN_SIMILARITY``)."""
    for_documents = any(str(rule).strip() == "documents" for rule in row.get("rules") or ())
    return MIN_SIMILARITY_WITHOUT_DOCUMENTS if for_documents and not documents else MIN_SIMILARITY


def _by_rules(
    specialists: list[dict[str, Any]], text: str, attachments: Sequence[str], documents: bool
) -> tuple[dict[str, Any], str] | None:
    """(the specialist whose rules match most, why) or None."""
    best: tuple[int, int, dict[str, Any], str] | None = None
    lowered = text.lower()
    extensions = {PurePath(a).suffix.lower() for a in attachments if PurePath(a).suffix}
    for position, row in enumerate(specialists):
        hits: list[str] = []
        for raw in row["rules"]:
            try:
                rule = parse_rule(raw)
            except store.SpecialistError:
                continue  # saved before a check existed: ignore it, never crash the chat
            why = _match(rule, text, lowered, extensions, documents)
            if why:
                hits.append(why)
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), position, row, hits[0])
    return (best[2], best[3]) if best else None


_WORDS: dict[str, re.Pattern[str]] = {}


def _match(
    rule: Rule, text: str, lowered: str, extensions: set[str], documents: bool
) -> str | None:
    if rule.kind == "keyword":
        pattern = _WORDS.get(rule.value)
        if pattern is None:
            pattern = _WORDS[rule.value] = re.compile(
                r"(?<!\w)" + re.escape(rule.value) + r"(?!\w)"
            )
        return f"matched '{rule.value}'" if pattern.search(lowered) else None
    if rule.kind == "regex":
        found = re.search(rule.value, text, re.IGNORECASE)
        return f"matched '{_clip(found.group(0))}'" if found else None
    if rule.kind == "file":
        return f"a {rule.value} file is attached" if rule.value in extensions else None
    if rule.kind == "documents":
        return "documents are attached" if documents else None
    return None


def _clip(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
