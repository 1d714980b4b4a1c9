"""What the conversation service takes and what a turn yields.

A turn is an iterator: ``TurnStarted`` once the question and the answer row exist, then
``ModelLoading``/``ModelReady`` if the model has to be (re)loaded, ``TurnNotice``
warnings, ``SourcesReady`` when the turn is grounded in documents, ``AnswerStarting``
once the engine has taken the prompt, ``TextEvent`` pieces as they decode (the engine's
own type), and exactly one final ``TurnResult``. Closing
the iterator stops the answer (what was written so far is kept, marked stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.engine.types import ModelInfo, ReplyStats, TextEvent

TurnKind = Literal["send", "edit", "regenerate", "continue"]


@dataclass(frozen=True)
class TurnRequest:
    """One thing a user asked for. ``target_id`` is the message edited (``edit``), the
    answer regenerated (``regenerate``) or continued (``continue``)."""

    kind: TurnKind
    conversation_id: int | None = None  # ``send`` without one starts a new conversation
    text: str = ""  # the question (``send``) or the edited text (``edit``)
    target_id: int | None = None
    model: str | None = None  # a registry name; None: the conversation's, else the default
    max_tokens: int | None = None  # this turn only (``ask --max-tokens``)
    collection: str | None = None  # this turn only: a named collection to draw on
    # Specialists (app.chat.router): ``specialist`` answers with that one instead of the
    # routed one (``ask --specialist``, "Re-run with ..." as a ``regenerate``); ``escalate``
    # with ``regenerate``: the target's specialist's fallback answers as a sibling ("Ask a
    # bigger model"); ``attachments``: file names sent with the message (routing rules).
    specialist: str | None = None
    escalate: bool = False
    attachments: tuple[str, ...] = ()
    # Sampling for this turn only, over every other source (the local API's temperature,
    # top_p, seed): ``(field of SamplingOptions, value)`` pairs.
    sampling: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class TurnStarted:
    conversation_id: int
    question_id: int  # the user message being answered
    answer_id: int
    model: str
    kind: TurnKind
    new_conversation: bool = False
    question: str = ""
    continue_text: str = ""  # ``continue``: the answer's text before this turn


@dataclass(frozen=True)
class ModelLoading:
    name: str


@dataclass(frozen=True)
class ModelReady:
    name: str
    info: ModelInfo


@dataclass(frozen=True)
class TurnNotice:
    """A warning for the user: ``kind`` is the engine's (``no_chat_template``,
    ``turns_dropped``), ``documents`` or ``history``."""

    kind: str
    message: str


@dataclass(frozen=True)
class SourcesReady:
    answer_id: int
    sources: list[dict[str, Any]]


@dataclass
class TurnResult:
    """The final event: the saved answer and how it went."""

    conversation_id: int
    message: dict[str, Any]  # the saved answer row
    stats: ReplyStats | None
    sources: list[dict[str, Any]] | None = None  # None: the turn was not grounded
    warnings: list[str] = field(default_factory=list)
    note: str | None = None  # "stopped", "cut off: ...", from app.chat.notes

    @property
    def status(self) -> str:
        return str(self.message["status"])


@dataclass(frozen=True)
class RouteChosen:
    """Which specialist answers and why (before ``TurnStarted``); see ``app.chat.router``."""

    specialist: str
    model: str
    reason: str
    method: str  # explicit, rule, semantic, default, override, escalation
    scores: dict[str, float] = field(default_factory=dict)
    semantic_off: str | None = None  # "Semantic routing is off: ..." when it is
    remote: str | None = None  # the remote endpoint that answers (None: this machine)


@dataclass(frozen=True)
class Escalating:
    """The answer ``answer_id`` is escalated: its fallback answers next, as a sibling."""

    answer_id: int
    fallback: str
    reason: str  # "confidence 0.31 under 0.50", "asked for a bigger model"
    confidence: float | None = None


@dataclass(frozen=True)
class CitationsReady:
    """After a grounded answer ends: each sentence's supporting source (app.chat.attribution);
    ``citations`` are {sentence, source (1-based, or None: not found), score}."""

    answer_id: int
    citations: list[dict[str, Any]]


@dataclass(frozen=True)
class AnswerStarting:
    """The engine took the prompt (its template rendered, it fits the context, nothing
    is left to refuse): the answer's text follows. The local API starts its stream here,
    so the client has the response's headers while the prompt is evaluated."""

    answer_id: int


TurnEvent = (
    TurnStarted | ModelLoading | ModelReady | TurnNotice | SourcesReady | TextEvent | TurnResult
    | RouteChosen | Escalating | CitationsReady | AnswerStarting
)  # fmt: skip
