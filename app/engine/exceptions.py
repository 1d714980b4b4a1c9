"""Engine errors not (yet) in ``app/errors.py``; both are ``LanternError``s.

Kept here so the engine owns them; the lead may move them to ``app/errors.py``.
"""

from __future__ import annotations

from app.errors import LanternError


class ChatTemplateError(LanternError):
    """The model's chat template rejected the conversation or could not be rendered."""


class InferenceError(LanternError):
    """llama.cpp failed while evaluating a prompt or generating (not a user mistake)."""
