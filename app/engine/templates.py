"""Turn a conversation into the prompt text a model expects.

A GGUF usually carries its Hugging Face chat template (``tokenizer.chat_template``), a
Jinja program; it is rendered in Jinja's immutable sandbox, as transformers does, with a
budget (steps, time, output size, call depth) and a stop check, so a hostile template
can neither hang nor crash the app. A model without one (a base model such as Gemma 3
270M) gets a plain "User:/Assistant:" transcript, and the caller is told through
``ChatFormat.notice``.

``ChatFormat.segments`` tells which parts of the prompt are the template's own text and
which are message content: only the template's text may contain control tokens
(``<|im_start|>``), so a question or a document cannot forge a role marker.

Prefix reuse depends on one property: rendering a conversation and then the same
conversation with one more exchange gives text whose start is byte-identical.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence

import jinja2

from app.engine import template_sandbox as sandbox
from app.engine.template_sandbox import MIN_OUTPUT
from app.engine.types import ChatMessage
from app.errors import ChatTemplateError
from app.logs import get_logger

log = get_logger("engine")

Segment = tuple[str, bool]
"""A piece of a prompt: its text, and whether it is the template's own (trusted) text."""

NO_TEMPLATE_NOTICE = (
    "This model has no chat template (it may be a base model, not a chat model); "
    "Lantern uses a plain User/Assistant format, so answers may be poor."
)
BROKEN_TEMPLATE_NOTICE = (
    "This model's chat template could not be read ({error}); "
    "Lantern uses a plain User/Assistant format instead."
)

_ROLE_LABEL = {"user": "User", "assistant": "Assistant"}


class ChatFormat:
    """Renders conversations for one model: its own template, or the plain fallback.

    ``should_stop`` is polled while a template renders (``ChatSession.stop``)."""

    def __init__(
        self,
        template: str | None,
        bos_token: str = "",
        eos_token: str = "",
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.notice: str | None = None
        self.should_stop = should_stop
        self._env = sandbox.environment()
        self._template: jinja2.Template | None = None
        if not template:
            self.notice = NO_TEMPLATE_NOTICE
            return
        try:
            self._template = self._env.from_string(template)
        except Exception as e:  # untrusted code: any failure means it cannot be read
            log.warning("chat template does not compile: %s", e)
            self.notice = BROKEN_TEMPLATE_NOTICE.format(error=_short(e))

    @property
    def uses_fallback(self) -> bool:
        return self._template is None

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Text that ends a reply besides the end-of-generation token."""
        return ("\nUser:",) if self.uses_fallback else ()

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        """The prompt for ``messages``; raises ``ChatTemplateError`` if the template refuses."""
        return "".join(text for text, _ in self.segments(messages, add_generation_prompt))

    def segments(
        self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True
    ) -> list[Segment]:
        """The prompt for ``messages`` as template text (trusted) and message content."""
        if self._template is None:
            return self._plain(messages, add_generation_prompt)
        try:
            return self._template_segments(messages, add_generation_prompt)
        except sandbox.TEMPLATE_FAILURES as e:
            if messages and messages[0].role == "system" and not _is_ours(e):
                # Some templates (Gemma, Mistral) refuse a system role: fold it into the
                # first user message, as those models' own chat code does.
                try:
                    return self._template_segments(_fold_system(messages), add_generation_prompt)
                except sandbox.TEMPLATE_FAILURES:
                    pass
            if isinstance(e, ChatTemplateError):
                raise
            raise ChatTemplateError(
                f"The model's chat template cannot format this conversation: {_short(e)}"
            ) from e

    def _template_segments(self, messages: Sequence[ChatMessage], add_gen: bool) -> list[Segment]:
        """Render once as is and once with a placeholder per content, then align the two."""
        rendered = self._render_template(messages, add_gen, [m.content for m in messages])
        # Placeholders of private-use characters: no case, digits or spaces to change,
        # and a random mark that a message cannot guess.
        mark = "".join(chr(0xE000 + b) for b in secrets.token_bytes(8))
        placeholders = [f"\uf8fe{mark}{_pua_number(i)}\uf8ff" for i in range(len(messages))]
        skeleton = self._render_template(messages, add_gen, placeholders)
        split = _split_at_placeholders(skeleton, mark)
        # template text, content index, template text, ..., template text
        parts = [p if k % 2 == 0 else str(_pua_value(p)) for k, p in enumerate(split)]
        aligned = _align(rendered, parts, messages)
        if aligned is not None:
            return aligned
        if any(mark in p or "\uf8fe" in p or "\uf8ff" in p for p in parts[::2]):
            raise ChatTemplateError(
                "The model's chat template changes message text in a way Lantern cannot "
                "check, so the conversation cannot be formatted safely."
            )
        # The template changes contents in a way not understood (not just trimming):
        # keep its structure and the contents as written.
        log.info("chat template transforms message contents; contents are kept as written")
        return [
            (part, True) if k % 2 == 0 else (messages[int(part)].content, False)
            for k, part in enumerate(parts)
            if part
        ]

    def _render_template(
        self, messages: Sequence[ChatMessage], add_gen: bool, contents: Sequence[str]
    ) -> str:
        assert self._template is not None
        variables = {
            "messages": [
                {"role": m.role, "content": c} for m, c in zip(messages, contents, strict=True)
            ],
            "add_generation_prompt": add_gen,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        # The output may be several times the conversation (a template repeating it).
        max_output = MIN_OUTPUT + 8 * sum(len(m.content) for m in messages)
        return sandbox.render(self._env, self._template, max_output, self.should_stop, variables)

    def _plain(self, messages: Sequence[ChatMessage], add_gen: bool) -> list[Segment]:
        parts: list[Segment] = []
        for m in messages:
            if m.role == "system":
                parts += [(m.content.strip(), False), ("\n\n", True)]
            else:
                # " " + lstrip: a generated reply starts with its own space token, so the
                # rendered history matches the tokens that were generated.
                parts += [(f"{_ROLE_LABEL[m.role]}: ", True), (m.content.strip(), False)]
                parts.append(("\n\n", True))
        if add_gen:
            parts.append(("Assistant:", True))
        return [p for p in parts if p[0]]


def _is_ours(e: BaseException) -> bool:
    """A refusal of ours (budget, unsafe template): folding the system prompt cannot help."""
    return isinstance(e, ChatTemplateError)


def _short(e: BaseException, limit: int = 300) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _align(
    rendered: str, parts: list[str], messages: Sequence[ChatMessage]
) -> list[Segment] | None:
    """Segments of ``rendered``, given the placeholder rendering split into ``parts``.

    Each content may appear in one of the forms of ``_content_forms``; anything else
    gives None.
    """
    if not rendered.startswith(parts[0]):
        return None
    out: list[Segment] = [(parts[0], True)]
    pos = len(parts[0])
    for k in range(1, len(parts), 2):
        content, after = messages[int(parts[k])].content, parts[k + 1]
        for candidate in _content_forms(content):
            end = pos + len(candidate)
            if rendered.startswith(candidate, pos) and rendered.startswith(after, end):
                out += [(candidate, False), (after, True)]
                pos = end + len(after)
                break
        else:
            return None
    if pos != len(rendered):
        return None
    return [s for s in out if s[0]]


def _content_forms(content: str) -> dict[str, None]:
    """What templates commonly make of a content: itself, trimmed (``| trim``), and for
    reasoning models (DeepSeek R1, Qwen3) the part after ``</think>``, trimmed or not."""
    forms: dict[str, None] = {}
    bases = [content]
    if "</think>" in content:
        bases.append(content.split("</think>")[-1])
    for base in bases:
        for form in (base, base.strip(), base.lstrip(), base.rstrip(), base.lstrip("\n")):
            forms[form] = None
    return forms


# Any placeholder: U+F8FE, a mark of 8 characters U+E000..U+E0FF, a number, U+F8FF. One
# pattern compiled once: a pattern with this render's random mark in it was compiled
# anew for every prompt (~70 us each, and each pushed another pattern out of re's cache).
_PLACEHOLDER = re.compile("\uf8fe([\ue000-\ue0ff]{8})([\ue100-\ue1ff]+)\uf8ff")


def _split_at_placeholders(skeleton: str, mark: str) -> list[str]:
    """``re.split`` of ``skeleton`` at the placeholders carrying ``mark``, keeping their
    numbers: template text, number, template text, ..., template text."""
    parts: list[str] = []
    last = 0
    for found in _PLACEHOLDER.finditer(skeleton):
        if found.group(1) == mark:
            parts += [skeleton[last : found.start()], found.group(2)]
            last = found.end()
    parts.append(skeleton[last:])
    return parts


def _pua_number(n: int) -> str:
    """``n`` in base 256, written with the private-use characters U+E100..U+E1FF."""
    digits = [chr(0xE100 + n % 256)]
    while n >= 256:
        n //= 256
        digits.append(chr(0xE100 + n % 256))
    return "".join(reversed(digits))


def _pua_value(text: str) -> int:
    n = 0
    for c in text:
        n = n * 256 + ord(c) - 0xE100
    return n


def _fold_system(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    system, rest = messages[0], list(messages[1:])
    for i, m in enumerate(rest):
        if m.role == "user":
            rest[i] = ChatMessage("user", f"{system.content}\n\n{m.content}")
            return rest
    return [ChatMessage("user", system.content), *rest]
