"""When an answer goes to a specialist's fallback, and what the fallback is.

Confidence is the geometric mean of the answer's token probabilities,
``exp(mean token log-probability)``, in 0..1, read from the engine's reply statistics
(``ReplyStats.mean_logprob`` when the engine reports it; ``None`` otherwise, and then
only the user's request escalates). A specialist with a ``threshold`` and a ``fallback``
escalates an answer whose confidence is under the threshold; "Ask a bigger model" (a
``regenerate`` request with ``escalate=True``) escalates on request. The fallback answers
as a sibling of the first answer; both stay in the tree.

A fallback is a registry model name, or ``remote:<endpoint>`` for a remote
OpenAI-compatible server, only when the specialist allows remote use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.errors import SpecialistError

REMOTE_PREFIX = "remote:"
ASKED = "asked for a bigger model"


@dataclass(frozen=True)
class Escalation:
    fallback: str  # a model name or "remote:<endpoint>"
    reason: str
    confidence: float | None


def confidence_of(stats: Any) -> float | None:
    """exp(mean token log-probability) of a reply, or ``None`` when it is not known."""
    mean = getattr(stats, "mean_logprob", None)
    if mean is None or not getattr(stats, "completion_tokens", 0):
        return None
    return float(math.exp(min(0.0, float(mean))))


def confidence_from(mean_logprob: float | None) -> float | None:
    return None if mean_logprob is None else float(math.exp(min(0.0, mean_logprob)))


def automatic(specialist: dict[str, Any] | None, confidence: float | None) -> Escalation | None:
    """The escalation an answer with ``confidence`` gets from ``specialist``, if any."""
    if specialist is None or confidence is None:
        return None
    threshold, fallback = specialist.get("threshold"), specialist.get("fallback")
    if not threshold or not fallback or confidence >= float(threshold):
        return None
    return Escalation(
        str(fallback), f"confidence {confidence:.2f} under {float(threshold):.2f}", confidence
    )


def on_request(specialist: dict[str, Any] | None, confidence: float | None) -> Escalation:
    """ "Ask a bigger model": the specialist's fallback (a clear error when it has none)."""
    if specialist is None:
        raise SpecialistError(
            "This answer was not given by a specialist, so it has no fallback; pick a "
            "bigger model for the conversation instead."
        )
    fallback = specialist.get("fallback")
    if not fallback:
        raise SpecialistError(
            f"Specialist {specialist['name']} has no fallback model; set one in its "
            "settings (a bigger model, or a remote server) to ask a bigger model."
        )
    return Escalation(str(fallback), ASKED, confidence)


def is_remote(fallback: str) -> bool:
    return fallback.startswith(REMOTE_PREFIX)


def check_remote(specialist: dict[str, Any], fallback: str) -> str:
    """The endpoint id of a remote fallback the specialist may use (else a clear error)."""
    if not specialist.get("allow_remote"):
        raise SpecialistError(
            f"Specialist {specialist['name']} may not use a remote server; turn on remote "
            "use in its settings, or pick a local fallback model."
        )
    return fallback[len(REMOTE_PREFIX) :]
