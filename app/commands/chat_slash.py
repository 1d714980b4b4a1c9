"""The terminal chat's commands that change the conversation: ``/edit``, ``/regen``,
``/branch N``, ``/system TEXT``, ``/set NAME VALUE``. Each either returns a
``TurnRequest`` for the conversation service to run, or carries out a settings or
branch change through the service and returns ``None``. Wrong use raises
``LanternError`` with the right form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.chat.types import TurnRequest
from app.commands.common import err, out
from app.errors import LanternError
from app.store.conversations import get_conversation
from app.store.messages import active_path, siblings

if TYPE_CHECKING:
    from app.chat.service import ConversationService

SETTABLE = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "seed",
            "context_length")  # fmt: skip
_INTS = frozenset({"top_k", "max_tokens", "seed", "context_length"})


def last(service: ConversationService, cid: int, role: str) -> dict[str, Any] | None:
    """The active path's last message of ``role``."""
    return next((m for m in reversed(active_path(service.db, cid)) if m["role"] == role), None)


def edit_request(service: ConversationService, cid: int, text: str) -> TurnRequest:
    """``/edit TEXT``: the last question, asked again as ``TEXT`` (a new branch)."""
    question = last(service, cid, "user")
    if question is None:
        raise LanternError("There is no question to edit yet; type one first.")
    if not text.strip():
        raise LanternError("Write the new text after /edit (or use Up for the old one).")
    return TurnRequest("edit", cid, text, target_id=question["id"])


def regen_request(service: ConversationService, cid: int) -> TurnRequest:
    answer = last(service, cid, "assistant")
    if answer is None:
        raise LanternError("There is no answer to regenerate yet.")
    return TurnRequest("regenerate", cid, target_id=answer["id"])


def branch(service: ConversationService, cid: int, arg: str) -> None:
    """``/branch``: the versions of the last answer; ``/branch N``: switch to version N."""
    path = active_path(service.db, cid)
    point = next((m for m in reversed(path) if len(siblings(service.db, m["id"])) > 1), None)
    if point is None:
        err("This conversation has one branch (/edit or /regen make another).")
        return
    versions = siblings(service.db, point["id"])
    current = [v["id"] for v in versions].index(point["id"]) + 1
    if not arg.strip():
        for n, version in enumerate(versions, 1):
            mark = "*" if n == current else " "
            out(f"{mark}{n}: {' '.join(version['content'].split())[:70]}")
        err(f"Version {current} of {len(versions)} is active; /branch N switches.")
        return
    try:
        number = int(arg)
    except ValueError:
        raise LanternError(f"/branch takes a number from 1 to {len(versions)}.") from None
    if not 1 <= number <= len(versions):
        raise LanternError(f"There are {len(versions)} versions here; pick 1 to {len(versions)}.")
    new_path = service.switch_branch(versions[number - 1]["id"])
    err(f"Switched to version {number} of {len(versions)}:")
    for msg in new_path[-2:]:
        out(f"{'you' if msg['role'] == 'user' else msg['role']}> {msg['content']}")


def system(service: ConversationService, cid: int, text: str) -> None:
    """``/system TEXT`` sets this conversation's system prompt; ``/system -`` clears it."""
    if not text.strip():
        current = get_conversation(service.db, cid).get("system_prompt")
        err(f"System prompt: {current!r}" if current else "No system prompt (the default).")
        return
    value = None if text.strip() == "-" else text.strip()
    service.update_settings(cid, system_prompt=value)
    err("System prompt cleared." if value is None else "System prompt set for this conversation.")


def set_value(service: ConversationService, cid: int, arg: str) -> None:
    """``/set NAME VALUE`` (``/set NAME default`` goes back to the default)."""
    parts = arg.split()
    if len(parts) != 2 or parts[0] not in SETTABLE:
        raise LanternError(f"Use /set NAME VALUE with NAME one of: {', '.join(SETTABLE)}.")
    name, raw = parts
    value: Any = None
    if raw != "default":
        try:
            value = int(raw) if name in _INTS else float(raw)
        except ValueError:
            kind = "a whole number" if name in _INTS else "a number"
            raise LanternError(f"{name} takes {kind}, not {raw!r}.") from None
    service.update_settings(cid, **{name: value})
    err(f"{name} = {raw} for this conversation.")
