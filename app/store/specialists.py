"""Specialists: the rows behind routing (issue 9). The only SQL for ``specialists``.

A specialist is a dict with these keys (what ``list_specialists`` / ``find_specialist``
return and what ``save_specialist`` takes)::

    name           str, unique (any case), letters/digits/space/-/_ (``@name`` routes to it)
    description    str, what it is for (used by semantic routing)
    examples       list[str], example requests (used by semantic routing)
    model          str | None, a registry name, or "remote:<endpoint>" (only with
                   allow_remote); None = the default chat model
    adapters       list[{"name": str, "scale": float}], LoRA adapters (registry names)
    system_prompt  str | None
    sampling       str | dict | None, a preset name ("Balanced", "Precise", "Creative",
                   "Code") or inline values ({"temperature": 0.2, "top_p": 0.9, ...})
    collection     str | None, a named document collection the answers draw on
    fallback       str | None, a bigger model's registry name, or "remote:<endpoint id>"
    threshold      float | None, escalate when the answer's confidence (0..1) is below it;
                   None = only when the user asks
    allow_remote   bool, may its messages ever go to a remote endpoint
    remote_documents  bool, may document sources go with them (off: the question only)
    rules          list[str], one rule per item: "keyword: traceback",
                   "regex: ^def \\w+", "file: .py", "documents" (documents attached);
                   a bare word is a keyword
    is_default     bool, the one used when nothing else matches (exactly one has it)
    position       int, list order
    created_at, updated_at  str (UTC ISO)

API (every function takes the ``sqlite_utils.Database``)::

    list_specialists(db) -> list[dict]            # in list order
    find_specialist(db, name) -> dict | None      # any case
    get_specialist(db, name) -> dict              # SpecialistError if missing
    default_specialist(db) -> dict
    save_specialist(db, old_name=None, **values)  # add (old_name None) or edit/rename
    delete_specialist(db, name) -> str            # the default one cannot be deleted
    set_default_specialist(db, name) -> dict
    save_answer_route(db, message_id, ...)        # who answered a message and why

Bad values raise ``SpecialistError`` with a sentence the user can act on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from app.errors import SpecialistError
from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows
from app.store.timestamps import utc_now
from app.store.transaction import immediate

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$")
FIELDS = (
    "name", "description", "examples", "model", "adapters", "system_prompt", "sampling",
    "collection", "fallback", "threshold", "allow_remote", "rules", "is_default",
    "remote_documents",
)  # fmt: skip
_JSON = ("examples", "adapters", "rules", "sampling")
RULE_KINDS = ("keyword", "regex", "file", "documents")
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "max_tokens", "repeat_penalty")


@dataclass(frozen=True)
class Rule:
    """One routing rule: ``kind`` is keyword, regex, file (an extension) or documents."""

    kind: str
    value: str
    text: str  # as the user wrote it


def parse_rule(text: str) -> Rule:
    """``"keyword: traceback"`` -> ``Rule("keyword", "traceback")``; a bare word is a
    keyword, ``"documents"`` means documents are attached. Bad rules: SpecialistError."""
    raw = text.strip()
    kind, sep, value = raw.partition(":")
    kind = kind.strip().lower()
    if raw.lower() in ("documents", "documents attached"):
        return Rule("documents", "", raw)
    if not sep or kind not in RULE_KINDS:
        if not raw:
            raise SpecialistError("A routing rule is empty; remove the empty line.")
        return Rule("keyword", raw.lower(), raw)
    value = value.strip()
    if not value:
        raise SpecialistError(f"The rule '{raw}' has nothing after '{kind}:'.")
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            raise SpecialistError(
                f"The rule '{raw}' is not a valid regular expression ({exc}); fix it."
            ) from None
        return Rule("regex", value, raw)
    if kind == "file":
        ext = value.lower() if value.startswith(".") else "." + value.lower()
        return Rule("file", ext, raw)
    return Rule(kind, value.lower(), raw)


def _decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    for key in _JSON:
        raw = out.get(key)
        out[key] = json.loads(raw) if raw else ([] if key != "sampling" else None)
    out["allow_remote"] = bool(out.get("allow_remote"))
    out["remote_documents"] = bool(out.get("remote_documents"))
    out["is_default"] = bool(out.get("is_default"))
    return out


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Checked, normalised column values for the given fields (JSON encoded)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise SpecialistError(f"A specialist has no field {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            name = str(value or "").strip()
            if not NAME.match(name):
                raise SpecialistError(
                    f"'{name}' is not a usable specialist name: use 1-40 letters, digits, "
                    "spaces, '-' or '_', starting with a letter or digit."
                )
            out[key] = name
        elif key == "examples":
            out[key] = json.dumps([str(e).strip() for e in value or [] if str(e).strip()])
        elif key == "rules":
            rules = [str(r).strip() for r in value or [] if str(r).strip()]
            for rule in rules:
                parse_rule(rule)
            out[key] = json.dumps(rules, ensure_ascii=False)
        elif key == "adapters":
            out[key] = json.dumps(_adapters(value))
        elif key == "sampling":
            out[key] = json.dumps(_sampling(value))
        elif key == "threshold":
            out[key] = _threshold(value)
        elif key in ("allow_remote", "is_default", "remote_documents"):
            out[key] = 1 if value else 0
        elif key == "description":
            out[key] = str(value or "").strip()
        else:
            out[key] = (str(value).strip() or None) if value is not None else None
    return out


def _adapters(value: Any) -> list[dict[str, Any]]:
    out = []
    for item in value or []:
        if isinstance(item, str):
            item = {"name": item, "scale": 1.0}
        name = str(item.get("name") or "").strip()
        if not name:
            raise SpecialistError("A LoRA adapter entry has no name; pick an installed adapter.")
        try:
            scale = float(item.get("scale", 1.0))
        except (TypeError, ValueError):
            raise SpecialistError(f"The scale of adapter {name} is not a number.") from None
        if not -4.0 <= scale <= 4.0:
            raise SpecialistError(f"The scale of adapter {name} ({scale}) must be within ±4.")
        out.append({"name": name, "scale": scale})
    return out


def _sampling(value: Any) -> str | dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        unknown = set(value) - set(SAMPLING_KEYS)
        if unknown:
            raise SpecialistError(
                f"Sampling has no setting {', '.join(sorted(unknown))}; "
                f"use {', '.join(SAMPLING_KEYS)}."
            )
        for key, number in value.items():
            if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
                raise SpecialistError(f"Sampling {key} must be a number of 0 or more.")
        return dict(value)
    raise SpecialistError("Sampling must be a preset name or a set of values.")


def _threshold(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecialistError(f"The confidence threshold '{value}' is not a number.") from None
    if not 0.0 <= number <= 1.0:
        raise SpecialistError(f"The confidence threshold must be between 0 and 1, not {number}.")
    return number or None


@guarded
def list_specialists(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = dict_rows(db.execute("select * from specialists order by position, name"))
    return [r for r in map(_decode, rows) if r is not None]


@guarded
def find_specialist(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The specialist called ``name`` (any case), or ``None``."""
    row = dict_row(db.execute("select * from specialists where name = ?", [name.strip()]))
    return _decode(row)


def get_specialist(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    row = find_specialist(db, name)
    if row is None:
        names = ", ".join(r["name"] for r in list_specialists(db)) or "none"
        raise SpecialistError(f"There is no specialist '{name}' (there are: {names}).")
    return row


@guarded
def default_specialist(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The default specialist (the first one if none is marked), or None if none exist."""
    row = dict_row(
        db.execute("select * from specialists order by is_default desc, position, name limit 1")
    )
    return _decode(row)


@guarded
def save_specialist(
    db: sqlite_utils.Database, old_name: str | None = None, **values: Any
) -> dict[str, Any]:
    """Add a specialist (``old_name`` None: ``values`` needs ``name``) or change the one
    called ``old_name`` (only the given fields; a new ``name`` renames it)."""
    fields = _clean(values)
    now = utc_now()
    with immediate(db):
        if old_name is None:
            if "name" not in fields:
                raise SpecialistError("A new specialist needs a name.")
            if find_specialist(db, fields["name"]) is not None:
                raise SpecialistError(f"There is already a specialist '{fields['name']}'.")
            position = db.execute("select coalesce(max(position), -1) + 1 from specialists")
            db.table("specialists").insert(
                {**fields, "position": position.fetchone()[0], "created_at": now,
                 "updated_at": now}
            )  # fmt: skip
        else:
            current = get_specialist(db, old_name)
            new_name = fields.get("name", current["name"])
            if new_name.lower() != current["name"].lower() and find_specialist(db, new_name):
                raise SpecialistError(f"There is already a specialist '{new_name}'.")
            if current["is_default"] and fields.get("is_default") == 0:
                raise SpecialistError(
                    f"{current['name']} is the default specialist; make another one the "
                    "default instead."
                )
            sets = ", ".join(f"{k} = ?" for k in fields)
            db.execute(
                f"update specialists set {sets}, updated_at = ? where name = ?",
                [*fields.values(), now, current["name"]],
            )
        name = fields.get("name") or old_name
        assert name is not None
        if fields.get("is_default"):
            db.execute("update specialists set is_default = (name = ?)", [name])
    return get_specialist(db, name)


@guarded
def set_default_specialist(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    return save_specialist(db, name, is_default=True)


@guarded
def delete_specialist(db: sqlite_utils.Database, name: str) -> str:
    """Delete the specialist called ``name``; returns its name as it was spelled."""
    with immediate(db):
        row = get_specialist(db, name)
        if row["is_default"]:
            raise SpecialistError(
                f"{row['name']} is the default specialist; make another one the default "
                "before deleting it."
            )
        db.execute("delete from specialists where name = ?", [row["name"]])
    return str(row["name"])


@guarded
def save_answer_route(
    db: sqlite_utils.Database,
    message_id: int,
    specialist: str | None,
    route_reason: str | None,
    *,
    confidence: float | None = None,
    escalated_from: int | None = None,
    escalation_reason: str | None = None,
) -> None:
    """Record on an answer which specialist answered and why (and, for an escalated
    answer, the answer it escalated from and the reason)."""
    fields: dict[str, Any] = {"specialist": specialist, "route_reason": route_reason}
    if escalated_from is not None:
        fields.update(
            escalated=1, escalated_from=escalated_from, escalation_reason=escalation_reason
        )
    with immediate(db):
        db.table("messages").update(message_id, fields)


@guarded
def save_confidence(db: sqlite_utils.Database, message_id: int, confidence: float | None) -> None:
    """The answer's confidence (0..1: the geometric mean of its tokens' probabilities)."""
    with immediate(db):
        db.table("messages").update(message_id, {"confidence": confidence})
