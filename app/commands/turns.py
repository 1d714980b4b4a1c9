"""One chat turn in the terminal: the conversation service's events, printed as they come.

``ask`` and ``chat`` both call ``stream_turn``. The first Ctrl-C stops the answer (it is
kept, marked stopped); a second one raises ``KeyboardInterrupt`` after the service has
saved what there is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.chat.service import ConversationService
from app.chat.types import TurnNotice, TurnRequest, TurnResult
from app.commands.common import InterruptGuard, out
from app.engine.types import TextEvent


def stream_turn(
    service: ConversationService,
    request: TurnRequest,
    on_text: Callable[[str], None] | None = None,
    on_notice: Callable[[TurnNotice], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> TurnResult:
    """Run ``request`` to its end and return the saved answer (the last one, when an
    answer escalates). ``on_event`` gets every other event (``Escalating``, each
    ``TurnResult``, ...)."""
    guard = InterruptGuard(service.stop)
    turn = service.run(request)
    result: TurnResult | None = None
    try:
        with guard.installed():
            for event in turn:
                if isinstance(event, TextEvent):
                    if on_text:
                        on_text(event.text)
                elif isinstance(event, TurnNotice):
                    if on_notice:
                        on_notice(event)
                elif isinstance(event, TurnResult):
                    result = event
                if on_event and not isinstance(event, TextEvent | TurnNotice):
                    on_event(event)
    finally:
        turn.close()  # a no-op once the turn ended; otherwise it stops and saves the answer
    assert result is not None, "a turn always ends with a TurnResult"
    return result


def print_sources(sources: list[dict[str, Any]] | None) -> None:
    if sources:
        out("\nSources:")
    for number, source in enumerate(sources or [], 1):
        out(f"  [{number}] {source['file']}, page {source['page']}")
