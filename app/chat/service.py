"""The conversation service: every chat turn, from any front end, is built here.

``ConversationService.run(request)`` is an iterator of ``TurnEvent`` (see
``app.chat.types``). It saves the question, picks and (re)loads the model with the
conversation's settings, builds a history that alternates roles, grounds the question in
the conversation's documents, streams the engine's reply and saves it as it goes
(partial text at least once a second), and ends with one ``TurnResult``. Errors are
raised as ``LanternError`` after the answer is saved as failed.

One service per owner thread (the window's inference worker, a CLI command): it holds
that thread's database connection, the loaded model and the embedding model. ``stop()``
is the one method other threads may call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from app.chat import routing
from app.chat.attribution import attribute_answer
from app.chat.grounding import KeptEmbedder, docs_scope, ground
from app.chat.history import History, build_history, question_text
from app.chat.kv_cache import KvCache
from app.chat.notes import answer_note
from app.chat.pool import ModelPool
from app.chat.router import RouteDecision, Router
from app.chat.service_manage import ConversationManagement
from app.chat.settings import (
    LoadPolicy,
    chat_model,
    load_options_for,
    sampling_for,
    system_prompt_for,
)
from app.chat.types import (
    AnswerStarting,
    CitationsReady,
    Escalating,
    ModelLoading,
    ModelReady,
    SourcesReady,
    TurnEvent,
    TurnKind,
    TurnNotice,
    TurnRequest,
    TurnResult,
    TurnStarted,
)
from app.engine.context_fit import answer_reserve
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, ModelInfo, NoticeEvent, ReplyStats, TextEvent
from app.errors import ChatTemplateError, LanternError
from app.logs import get_logger
from app.store import conversations as convs
from app.store import messages as msgs
from app.store.transaction import immediate

log = get_logger("chat")

CONTINUABLE = frozenset({"stopped", "interrupted"})


@dataclass
class _Turn:
    """What a turn needs once its question is known."""

    conv: dict[str, Any]
    question: dict[str, Any]
    model: dict[str, Any]
    session: ChatSession | None  # None: a remote model answers (app.chat.remote_turn)
    kind: TurnKind
    new_conversation: bool = False
    continue_row: dict[str, Any] | None = None  # the stopped answer being continued
    sources_from: dict[str, Any] | None = None  # regenerate: the answer it replaces
    route: RouteDecision | None = None  # the specialist answering (app.chat.router)
    escalation: Any = None  # app.chat.escalation.Escalation when this answer escalates
    answer: msgs.StreamingAnswer | None = None  # a local model's answer row, made with the question


class ConversationService(ConversationManagement):
    """Turns for the conversations of one database, on the thread that owns it.

    The managing methods (``MANAGE``) come from ``ConversationManagement``."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        policy: LoadPolicy | None = None,
        pool: ModelPool | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or LoadPolicy()
        self.pool = pool or ModelPool.from_settings(db)
        self.embedder = KeptEmbedder(db)
        self.router = Router(db, self.embedder.current)
        self.kv = KvCache.for_db(db)  # every conversation's KV cache (issue 12)
        self._stop = threading.Event()

    # -- other threads -----------------------------------------------------------------

    def stop(self) -> None:
        """End the running turn within one token; its text so far is kept (thread-safe)."""
        self._stop.set()
        self.pool.stop()

    # -- the owner thread ----------------------------------------------------------------

    def begin_turn(self) -> None:
        """A turn run outside ``run`` begins (``app.chat.unsaved_turn``): a stop asked
        for before it is forgotten, as ``run`` forgets it."""
        self._stop.clear()

    def stop_requested(self) -> bool:
        """Whether ``stop()`` was called since the running turn began."""
        return self._stop.is_set()

    def load_model(
        self,
        name: str | None = None,
        conversation_id: int | None = None,
        on_loading: Callable[[str], None] | None = None,
    ) -> tuple[str, ModelInfo]:
        """Load a model ahead of the first turn (the window's picker, the CLI's start);
        ``on_loading(name)`` is called once the model is known, before it loads."""
        conv = convs.get_conversation(self.db, conversation_id) if conversation_id else None
        model, _ = chat_model(self.db, name, conv)
        options = load_options_for(self.db, conv, model, self.policy)
        if on_loading is not None and not self.pool.is_loaded(model, options):
            on_loading(model["name"])
        session = self.pool.session_for(model, options)
        return model["name"], session.info

    def messages_for(
        self,
        question_id: int,
        session: ChatSession | None = None,
        max_tokens: int = 0,
        specialist: dict[str, Any] | None = None,
    ) -> History:
        """The history the model sees when answering the user message ``question_id``.

        With ``session``: when the earlier questions' document sources would leave less
        than a quarter of the context for the new question's sources and the answer,
        the earlier questions are rendered without their sources.
        """
        question = msgs.get_message(self.db, question_id)
        conv = convs.get_conversation(self.db, question["conversation_id"])
        rows = msgs.path_to(self.db, question_id)
        system = routing.system_prompt(conv, specialist, system_prompt_for(self.db, conv))
        history = build_history(rows, system)
        if session is None or not any(r.get("context") for r in rows[:-1]):
            return history
        n_ctx = session.n_ctx
        needed = n_ctx // 4 + answer_reserve(n_ctx, max_tokens)
        if session.count_tokens(history.messages) + needed <= n_ctx:
            return history
        return build_history(rows, system, keep_sources=False)

    def close(self) -> None:
        self.kv.close()  # waits for the KV states still being written (issue 12)
        self.embedder.close()
        self.pool.close()

    def run(self, request: TurnRequest) -> Iterator[TurnEvent]:
        """Carry out ``request``; see the module docstring for the events."""
        self._stop.clear()
        turn = yield from self._prepare(request)
        result: TurnResult | None = None
        for event in self._answer(turn, request):
            result = event if isinstance(event, TurnResult) else result
            yield event
        follow = routing.escalate_after(turn.route, turn.escalation, result, self._stop.is_set())
        if follow is not None:  # a low-confidence answer: its fallback answers as a sibling
            assert result is not None
            target = result.message["id"]
            yield Escalating(target, follow.fallback, follow.reason, follow.confidence)
            self._stop.clear()
            turn = yield from self._prepare(
                TurnRequest("regenerate", target_id=target, escalate=True), follow
            )
            yield from self._answer(turn, request)

    # -- preparing a turn ----------------------------------------------------------------

    def _prepare(
        self, request: TurnRequest, escalation: Any = None
    ) -> Generator[TurnEvent, None, _Turn]:
        """Check the request, route it, load the model, save the question; returns a
        ``_Turn``. ``escalation``: an automatic one (``app.chat.escalation``)."""
        db = self.db
        target = msgs.get_message(db, request.target_id) if request.target_id else None
        cid = target["conversation_id"] if target else request.conversation_id
        conv = convs.get_conversation(db, cid) if cid is not None else None
        _check(request, target)
        route, escalation = routing.decide(self.router, request, target, conv, escalation)
        model, notices = routing.turn_model(db, request, route, conv)
        if route is not None:
            yield routing.chosen_event(route, model["name"])
        for notice in notices:
            yield TurnNotice("model", notice)
        remote = bool(model.get("remote"))  # a remote endpoint: no local model to load
        session = None if remote else (yield from self.model_session(model, conv))
        # Every write before the model starts: one commit, no WAL checkpoint (the first
        # piece's save after it does that).
        with immediate(db, checkpoint=False):
            turn = self._save_question(request, target, conv, model, session, route)
            turn.escalation = escalation
            if session is not None:  # the answer's row (a remote answer makes its own)
                turn.answer = msgs.StreamingAnswer(
                    db, turn.conv["id"], turn.question["id"], model["name"],
                    resume=turn.continue_row,
                )  # fmt: skip
        return turn

    def _save_question(
        self,
        request: TurnRequest,
        target: dict[str, Any] | None,
        conv: dict[str, Any] | None,
        model: dict[str, Any],
        session: ChatSession | None,
        route: RouteDecision | None,
    ) -> _Turn:
        """The conversation (made or its model updated) and the question of this turn."""
        db = self.db
        new = conv is None
        if conv is None:
            conv = convs.create_conversation(db, model=None if session is None else model["name"])
        elif conv.get("model") != model["name"] and not routing.model_from_route(request, route):
            conv = convs.update_settings(db, conv["id"], model=model["name"])
        turn = _Turn(conv, {}, model, session, request.kind, new, route=route)
        text = routing.question_text(request, route)  # without a leading "@name"
        if request.kind == "send":
            convs.title_from_first_message(db, conv["id"], text)
            turn.question = msgs.add_message(db, conv["id"], "user", text)
        elif request.kind == "edit":
            assert target is not None
            turn.question = msgs.edit_message(db, target["id"], text)
        else:
            assert target is not None
            turn.question = msgs.get_message(db, target["parent_id"])
            if request.kind == "continue":
                turn.continue_row = target
                msgs.switch_branch(db, target["id"])
            else:
                turn.sources_from = target
        return turn

    def model_session(
        self, model: dict[str, Any], conv: dict[str, Any] | None
    ) -> Generator[TurnEvent, None, ChatSession]:
        """The session of ``model`` with ``conv``'s load options; ``ModelLoading`` and
        ``ModelReady`` when it has to be loaded (also ``app.chat.unsaved_turn``'s)."""
        options = load_options_for(self.db, conv, model, self.policy)
        if self.pool.is_loaded(model, options):
            return self.pool.session_for(model, options)
        yield ModelLoading(model["name"])
        session = self.pool.session_for(model, options)
        yield ModelReady(model["name"], session.info)
        return session

    # -- answering -----------------------------------------------------------------------

    def _answer(self, turn: _Turn, request: TurnRequest) -> Iterator[TurnEvent]:
        if turn.session is None:  # a remote endpoint answers
            from app.chat import remote_turn

            yield from remote_turn.answer(self, turn, request)
            return
        db, conv, question = self.db, turn.conv, turn.question
        cont = turn.continue_row
        answer = turn.answer
        assert answer is not None  # made by _prepare with the question
        yield TurnStarted(
            conv["id"], question["id"], answer.message_id, turn.model["name"], turn.kind,
            turn.new_conversation, question["content"], cont["content"] if cont else "",
        )  # fmt: skip
        warnings: list[str] = []
        stats: ReplyStats | None = None
        sources: list[dict[str, Any]] | None = None
        events: Iterator[Any] = iter(())
        try:
            spec = turn.route.specialist if turn.route else None
            sampling = routing.sampling(db, sampling_for(db, conv, request.max_tokens), conv, spec)
            if request.sampling:  # this turn's own values (the local API)
                sampling = replace(sampling, **dict(request.sampling))
            history = self.messages_for(question["id"], turn.session, sampling.max_tokens, spec)
            routing.apply_adapters(db, turn.session, spec)
            if history.notice:
                warnings.append(history.notice)
                yield TurnNotice("history", history.notice)
            sources, notices = self._sources(turn, request, history, sampling.max_tokens)
            if sources is not None:
                msgs.save_sources(db, answer.message_id, sources)
                yield SourcesReady(answer.message_id, sources)
            for notice in notices:
                warnings.append(notice)
                yield TurnNotice("documents", notice)
            self.kv.before_turn(turn.session, turn.model, conv["id"], history.messages,
                                sampling.max_tokens, cont["content"] if cont else "")  # fmt: skip
            events = turn.session.reply(history.messages, sampling, cont["content"] if cont else "")
            if self._stop.is_set():  # stopped while the turn was being prepared
                turn.session.stop()
            yield AnswerStarting(answer.message_id)  # the prompt was taken: no refusal left
            for event in events:
                if self._stop.is_set():
                    turn.session.stop()  # idempotent; covers a stop that raced the start
                if isinstance(event, TextEvent):
                    # Saved with the next piece (at most once a second), after this one
                    # reached the front end: the first token never waits for the disk.
                    answer.flush_due()
                    answer.keep(event.text)
                    yield event
                elif isinstance(event, NoticeEvent):
                    if event.message not in warnings:
                        warnings.append(event.message)
                    yield TurnNotice(event.kind, event.message)
                elif isinstance(event, ReplyStats):
                    stats = event
        except (KeyboardInterrupt, GeneratorExit):
            close_reply(events)
            answer.abort()
            raise
        except LanternError as exc:
            close_reply(events)
            if self._stop.is_set() and isinstance(exc, ChatTemplateError):
                row = answer.abort()  # stopped while the prompt was being formatted
                yield TurnResult(conv["id"], row, None, sources, warnings, answer_note(row))
                return
            answer.fail(str(exc))
            raise
        except BaseException:
            close_reply(events)
            with suppress(Exception):
                answer.fail("Unexpected error; see the log file.")
            raise
        row = answer.finish(stats) if stats is not None else answer.abort()
        row = routing.record(db, row, turn.route, turn.escalation, stats, turn.sources_from)
        try:
            if sources and row["content"]:  # sentence citations, whatever markers it wrote
                embedder = self.embedder.current()
                cites = attribute_answer(db, row["id"], row["content"], sources, embedder)
                yield CitationsReady(row["id"], cites)
            yield TurnResult(conv["id"], row, stats, sources, warnings, answer_note(row))
        finally:  # after the front end has the result; the file is written in the background
            if not conv.get("deleted_at"):  # an unsaved API exchange is deleted next: its
                self.kv.save(turn.session, conv["id"])  # state would never be used (~26 ms)

    def _sources(
        self, turn: _Turn, request: TurnRequest, history: History, max_tokens: int
    ) -> tuple[list[dict[str, Any]] | None, list[str]]:
        """(sources, notices). A new question is grounded: its sources are saved with it
        and ``history``'s last message gets them. An answer regenerated or continued
        keeps the sources its question was sent with."""
        question = turn.question
        if turn.kind in ("regenerate", "continue"):
            earlier = turn.sources_from or turn.continue_row or {}
            return (msgs.message_sources(earlier) if question.get("context") else None), []
        collection = request.collection or routing.collection(turn.route)
        scope = docs_scope(self.db, turn.conv["id"], collection)
        if scope is None or turn.session is None:
            return None, []
        grounding = ground(
            self.db, turn.session, history.messages[:-1], question["content"],
            max_tokens=max_tokens, scope=scope, embedder=self.embedder,
        )  # fmt: skip
        msgs.save_context(self.db, question["id"], grounding.system_text)
        history.messages[-1] = ChatMessage(
            "user", question_text(question["content"], grounding.system_text)
        )
        return grounding.sources, list(grounding.notices)


def _check(request: TurnRequest, target: dict[str, Any] | None) -> None:
    """A clear error for a request that cannot be carried out, before anything is saved."""
    if request.kind in ("send", "edit") and not request.text.strip():
        raise LanternError("The message is empty; write something to send.")
    if request.kind == "send":
        return
    if target is None:
        raise LanternError(f"A {request.kind} needs the message it applies to.")
    role = "user" if request.kind == "edit" else "assistant"
    if target["role"] != role:
        raise LanternError(f"Only a {role} message can be used for {request.kind}.")
    cut_off = target.get("stop_reason") in ("length", "context")
    if request.kind == "continue" and target["status"] not in CONTINUABLE and not cut_off:
        raise LanternError("Only an answer that was stopped or cut off can be continued.")


def close_reply(events: Iterator[Any]) -> None:
    """Close the reply generator (cancels the generation if it is still running)."""
    close = getattr(events, "close", None)
    if close is not None:
        close()
