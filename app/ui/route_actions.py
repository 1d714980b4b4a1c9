"""Routing in the window: which model a turn asks for, what the router said, and the
answer badge's "Ask a bigger model" and "Re-run with…".

- ``request_model(picked, conversation_id)`` (the chat controller's hook): with routing
  on (setting ``routing.window``, Models > Route messages to specialists), a turn asks
  for no model, so the router picks the specialist (and its model, if it names one;
  else the conversation's model, else the default, which a pick in the toolbar sets).
  A model loaded in the toolbar that differs from the conversation's is an explicit
  choice: the turn asks for it, unrouted, and it becomes the conversation's model, as
  before routing. The toolbar also follows the model a routed turn loaded (a
  specialist's or a fallback's); that one is not a choice, unless the user picks it
  there (``ModelPicker.model_chosen``). Routing off: the picked model always answers.
- ``RouteChosen`` from the worker goes to the status bar ("Code · SmolLM2 — matched
  'traceback'"); ``Escalating`` shows the fallback's answer streaming as a sibling.
- A badge's buttons become ``regenerate`` requests with ``specialist=`` or
  ``escalate=True`` (``app.chat.types.TurnRequest``), answered as siblings.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction

from app.chat.types import Escalating, RouteChosen
from app.errors import LanternError
from app.logs import get_logger
from app.ui.route_badge import AnswerBadge

log = get_logger("ui.routing")

NO_FALLBACK = "{name} has no fallback model: set one in Models > Specialists to ask a bigger model."
ALREADY_FALLBACK = "This answer already comes from {model}, the fallback of {name}."
NOT_A_SPECIALIST = "This answer was not routed to a specialist, so it has no fallback."


class RouteActions(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.routing = self._read_setting()
        self.toggle = QAction("&Route messages to specialists", window)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(self.routing)
        self.toggle.setToolTip(
            "On: each message goes to the specialist that fits it (its prompt, sampling, "
            "documents, and model if it names one). Off: the model picked in the toolbar "
            "answers everything."
        )
        self.toggle.toggled.connect(self.set_routing)
        window.chat.request_model = self.request_model
        self._chosen: str | None = None  # a model the user picked, not yet asked for
        self._routed_model: str | None = None  # the model the last routed turn used
        window.picker.model_chosen.connect(self.note_choice)
        worker = window.client.worker
        worker.routed.connect(self._on_routed)
        worker.escalating.connect(self._on_escalating)
        self.last_route: RouteChosen | None = None

    def _read_setting(self) -> bool:
        from app.store.settings import get_setting

        try:
            return bool(get_setting(self.window.db, "routing.window"))
        except LanternError:
            return True

    def set_routing(self, on: bool) -> None:
        """Turn routing in the window on or off (saved by the worker)."""
        self.routing = bool(on)
        self.window.writer.request("set_window_routing", None, on=self.routing)

    @Slot(str, str)
    def note_choice(self, name: str, _path: str = "") -> None:
        """The user picked ``name`` in the toolbar (not the toolbar following a load)."""
        self._chosen = name

    def request_model(self, picked: str, conversation_id: int | None) -> str | None:
        """The model a turn asks for (``None``: the router decides)."""
        if not self.routing:
            return picked
        chosen, self._chosen = self._chosen, None
        if picked == self._routed_model and chosen != picked:
            return None  # the toolbar follows the model a routed turn loaded: route
        from app.chat.settings import chat_model
        from app.store.conversations import get_conversation

        try:
            conv = get_conversation(self.window.db, conversation_id) if conversation_id else None
            would_answer = chat_model(self.window.db, None, conv)[0]["name"]
        except LanternError:
            return picked  # the service will say what is wrong
        return None if would_answer == picked else picked

    # -- the badge -----------------------------------------------------------------------

    def connect_badge(self, badge: AnswerBadge, row: dict[str, Any]) -> None:
        """Make the badge's buttons ask for sibling answers; say why one cannot."""
        badge.ask_bigger.connect(self.ask_bigger)
        badge.rerun_with.connect(self.rerun_with)
        badge.set_actions_enabled(True)
        why = self._no_fallback(row)
        if why:
            badge.bigger_button.setEnabled(False)
            badge.bigger_button.setToolTip(why)

    def _no_fallback(self, row: dict[str, Any]) -> str | None:
        from app.store.specialists import find_specialist

        name = row.get("specialist")
        if not name:
            return NOT_A_SPECIALIST
        try:
            spec = find_specialist(self.window.db, str(name))
        except LanternError:
            return None
        if spec is not None and not spec.get("fallback"):
            return NO_FALLBACK.format(name=spec["name"])
        answered_by = f"remote:{row['remote']}" if row.get("remote") else row.get("model")
        if spec is not None and spec.get("fallback") == answered_by:
            return ALREADY_FALLBACK.format(model=row["model"], name=spec["name"])
        return None

    def ask_bigger(self, answer_id: int) -> bool:
        """ "Ask a bigger model": the answer's specialist's fallback answers as a sibling."""
        return bool(self.window.chat.regenerate(answer_id, escalate=True))

    def rerun_with(self, answer_id: int, specialist: str) -> bool:
        """ "Re-run with <specialist>": a sibling answer from that specialist."""
        return bool(self.window.chat.regenerate(answer_id, specialist=specialist))

    # -- worker events -------------------------------------------------------------------

    @Slot(object)
    def _on_routed(self, route: RouteChosen) -> None:
        self.last_route = route
        self._routed_model = route.model
        reason = route.reason
        if reason.casefold().startswith(f"{route.specialist}: ".casefold()):
            reason = reason[len(route.specialist) + 2 :]
        self.window.status.set_activity(
            f"Answering: {route.specialist} \u00b7 {route.model} \u2014 {reason}"
        )

    @Slot(object)
    def _on_escalating(self, event: Escalating) -> None:
        self.window.status.set_activity(f"Asking {event.fallback}: {event.reason}")
        self.window.chat.follow_escalation(event.answer_id, event.fallback)
