"""Typed errors with a sentence a user can act on.

Core code raises these; the CLI prints ``str(error)`` as one line on stderr and exits
non-zero; the window shows it. Anything that is not a ``LanternError`` is a bug.
"""

from __future__ import annotations


class LanternError(Exception):
    """Base class: ``str(error)`` is the message for the user."""


class ModelNotFoundError(LanternError):
    """A model name or path that is not registered / does not exist."""


class ModelFileError(LanternError):
    """A file that is missing, truncated, corrupt or not a GGUF file."""


class ModelLoadError(LanternError):
    """llama.cpp could not load a file that looked valid."""


class NotAChatModelError(LanternError):
    """An embedding-only (or adapter) model was asked to chat."""


class ContextOverflowError(LanternError):
    """A single message does not fit in the model's context window."""


class StoreError(LanternError):
    """The database could not be opened or written (locked, full disk, corrupt)."""


class NotFoundError(LanternError):
    """A conversation, message or other record that does not exist."""


class DownloadError(LanternError):
    """A download failed (network, disk space, checksum, access)."""


class DocumentError(LanternError):
    """A document could not be read or indexed."""


class ChatTemplateError(LanternError):
    """The model's chat template rejected the conversation or could not be rendered."""


class InferenceError(LanternError):
    """llama.cpp failed while evaluating a prompt or generating (not a user mistake)."""


class PriceError(LanternError):
    """A cloud price table entry that is not valid (name, prices per million, date)."""


class SpecialistError(LanternError):
    """A specialist that does not exist or whose fields are not valid (name, rule, ...)."""


class AdapterError(LanternError):
    """A LoRA adapter that cannot be used with the model (wrong architecture or shapes)."""


class ImportFileError(LanternError):
    """A file to import is not a Lantern or ChatGPT conversation export (issue 10)."""


class PresetError(LanternError):
    """A sampling preset that does not exist, is built in, or has values out of range."""


class RemoteError(LanternError):
    """A remote OpenAI-compatible server failed (unreachable, 401, 429, timeout, bad reply).
    ``partial`` is the answer text received before the failure (kept by the caller)."""

    def __init__(self, message: str, status: int | None = None, partial: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.partial = partial


class GrammarError(LanternError):
    """A JSON schema (or grammar) the sampler cannot constrain an answer to (issue 14)."""


class CollectionError(LanternError):
    """A document collection name that is empty, taken or reserved, or a collection or
    file that is not there (issue 11: the Documents view)."""


class DraftModelError(LanternError):
    """A draft model for speculative decoding that does not share the chat model's
    vocabulary (issue 12)."""
