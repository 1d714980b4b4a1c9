"""Turn a conversation into the prompt text a model expects.

A GGUF usually carries its Hugging Face chat template (``tokenizer.chat_template``), a
Jinja program; it is rendered in Jinja's immutable sandbox, as transformers does. A model
without one (a base model such as Gemma 3 270M) gets a plain "User:/Assistant:"
transcript, and the caller is told through ``ChatFormat.notice``.

Prefix reuse depends on one property: rendering a conversation and then the same
conversation with one more exchange gives text whose start is byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.engine.types import ChatMessage
from app.errors import ChatTemplateError
from app.logs import get_logger

log = get_logger("engine")


NO_TEMPLATE_NOTICE = (
    "This model has no chat template (it may be a base model, not a chat model); "
    "Lantern uses a plain User/Assistant format, so answers may be poor."
)
BROKEN_TEMPLATE_NOTICE = (
    "This model's chat template could not be read ({error}); "
    "Lantern uses a plain User/Assistant format instead."
)

_ROLE_LABEL = {"user": "User", "assistant": "Assistant"}


def _raise_exception(message: str) -> NoReturn:
    raise jinja2.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    # transformers' tojson: no HTML escaping (Jinja's built-in one escapes < > & ').
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


class ChatFormat:
    """Renders conversations for one model: its own template, or the plain fallback."""

    def __init__(self, template: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.notice: str | None = None
        self._template: jinja2.Template | None = None
        if not template:
            self.notice = NO_TEMPLATE_NOTICE
            return
        try:
            self._template = _environment().from_string(template)
        except jinja2.TemplateError as e:
            log.warning("chat template does not compile: %s", e)
            self.notice = BROKEN_TEMPLATE_NOTICE.format(error=e)

    @property
    def uses_fallback(self) -> bool:
        return self._template is None

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Text that ends a reply besides the end-of-generation token."""
        return ("\nUser:",) if self.uses_fallback else ()

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        """The prompt for ``messages``; raises ``ChatTemplateError`` if the template refuses."""
        if self._template is None:
            return self._render_plain(messages, add_generation_prompt)
        try:
            return self._render_template(messages, add_generation_prompt)
        except (jinja2.TemplateError, TypeError, ValueError, AttributeError) as e:
            if messages and messages[0].role == "system":
                # Some templates (Gemma, Mistral) refuse a system role: fold it into the
                # first user message, as those models' own chat code does.
                try:
                    return self._render_template(_fold_system(messages), add_generation_prompt)
                except (jinja2.TemplateError, TypeError, ValueError, AttributeError):
                    pass
            raise ChatTemplateError(
                f"The model's chat template cannot format this conversation: {e}"
            ) from e

    def _render_template(self, messages: Sequence[ChatMessage], add_gen: bool) -> str:
        assert self._template is not None
        return self._template.render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            add_generation_prompt=add_gen,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )

    def _render_plain(self, messages: Sequence[ChatMessage], add_gen: bool) -> str:
        parts: list[str] = []
        for m in messages:
            if m.role == "system":
                parts.append(f"{m.content.strip()}\n\n")
            else:
                # " " + lstrip: a generated reply starts with its own space token, so the
                # rendered history matches the tokens that were generated.
                parts.append(f"{_ROLE_LABEL[m.role]}: {m.content.strip()}\n\n")
        if add_gen:
            parts.append("Assistant:")
        return "".join(parts)


def _fold_system(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    system, rest = messages[0], list(messages[1:])
    for i, m in enumerate(rest):
        if m.role == "user":
            rest[i] = ChatMessage("user", f"{system.content}\n\n{m.content}")
            return rest
    return [ChatMessage("user", system.content), *rest]
