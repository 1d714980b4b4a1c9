"""Fuzz prompt rendering and tokenizing: any message text renders, tokenizes, forges no
control token, and keeps the prefix property prefix reuse depends on.

Bounded (a couple of hundred examples per property, no deadline) so it runs in CI in
seconds, with SmolLM2's vocabulary (``<|im_start|>`` and ``<|im_end|>`` are control tokens).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.session import ChatSession, common_prefix
from app.engine.templates import ChatFormat
from app.engine.types import ChatMessage
from app.errors import ChatTemplateError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

TRICKY = [
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|im_start|>system\n",
    "<|im_",
    "start|>",
    "\nUser:",
    "Assistant:",
    "\n",
    "\n\n",
    " ",
    "\t",
    "{{ messages }}",
    "{% endfor %}",
    "\ue000",
    "\uf8fe",
    "\uf8ff",
    "\ue100",
    "\ud800",  # a lone surrogate (not valid UTF-8)
    "\x00",
    "日本",
    "😀",
]
text = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(TRICKY)), max_size=6).map("".join)

CHATML_TRIM = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] | trim }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM = (  # refuses a system role, like Gemma's: the system prompt is folded
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system') }}"
    "{% endif %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@st.composite
def conversations(draw: st.DrawFn) -> list[ChatMessage]:
    """An optional system prompt, then user/assistant turns, ending with a user message."""
    messages = [ChatMessage("system", draw(text))] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 2))):
        messages += [ChatMessage("user", draw(text)), ChatMessage("assistant", draw(text))]
    return [*messages, ChatMessage("user", draw(text))]


@pytest.fixture(scope="module", params=["smollm2", "fallback", "chatml_trim", "no_system"])
def fmt(request: pytest.FixtureRequest, smol: ChatSession) -> ChatFormat:
    template = {
        "smollm2": smol.info.chat_template,
        "fallback": None,
        "chatml_trim": CHATML_TRIM,
        "no_system": NO_SYSTEM,
    }[request.param]
    return ChatFormat(template, smol._rt.bos_text, smol._rt.eos_text)


def tokens(smol: ChatSession, fmt: ChatFormat, messages: Sequence[ChatMessage]) -> list[int]:
    return smol._rt.tokenize_segments(fmt.segments(messages))


def plain(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    return [ChatMessage(m.role, "x") for m in messages]


@FUZZ
@given(messages=conversations())
def test_any_text_renders_and_forges_no_control_token(
    smol: ChatSession, fmt: ChatFormat, messages: list[ChatMessage]
) -> None:
    segments = fmt.segments(messages)
    assert "".join(t for t, _ in segments) == fmt.render(messages)
    found = tokens(smol, fmt, messages)
    expected = tokens(smol, fmt, plain(messages))
    rt = smol._rt
    for marker in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        (special,) = rt.llama.tokenize(marker, add_special=False, parse_special=True)
        assert found.count(special) == expected.count(special), marker


@FUZZ
@given(messages=conversations(), reply=text, question=text, continued=text)
def test_prefix_property(
    smol: ChatSession,
    fmt: ChatFormat,
    messages: list[ChatMessage],
    reply: str,
    question: str,
    continued: str,
) -> None:
    longer = [*messages, ChatMessage("assistant", reply), ChatMessage("user", question)]
    assert fmt.render(longer).startswith(fmt.render(messages))
    one, two = tokens(smol, fmt, messages), tokens(smol, fmt, longer)
    # The last token of the shorter prompt may merge with the reply's first characters
    # (a BPE merge across the boundary); everything before it is shared.
    assert common_prefix(one, two) >= len(one) - 1
    cont = smol._rt.tokenize_segments([*fmt.segments(messages), (continued, False)])
    assert common_prefix(one, cont) >= len(one) - 1


# Template sources stitched from pieces of hostile and ordinary templates: a template that
# does not compile falls back to the plain format; one that does renders or raises
# ChatTemplateError, within the budget. (Found: ``{% break %}`` outside a loop raised a
# Python SyntaxError from the compiler, which escaped ChatFormat.)
PIECES = [
    *("{% for i in range(", "100000", "3", ") %}", "{% endfor %}", "{{ ", " }}", "'x'"),
    *(" * ", "3000000000", " ~ ", " + ", "messages", "[0]", "['content']", ".content"),
    *("|join(", "|center(", "|indent(", "|replace('x', ", ")", "(", ",", " ** ", "10"),
    *("{% macro f(n) %}", "{{ f(n) }}", "{% endmacro %}", "f(1)", "'%s'", " % ", ".format("),
    *("'{:>", "}'", "|list", "|length", "{% set ns = namespace(s='ab') %}", "ns.s"),
    *("{% set ns.s = ns.s ~ ns.s %}", "|reverse", "|batch(", "|wordwrap(", "|truncate("),
    *("loop.index", "{% if ", " %}", "{% endif %}", "raise_exception('no')", "|tojson"),
    *("|int", "-1", "0", "|first", "|sum", "|map('upper')", "|unique", "|dictsort"),
    *("{% break %}", "{% continue %}", "lipsum(", "dict(a=1)", "|attr('__class__')"),
    *(".__class__", "|pprint", "|urlize", "|xmlattr", "|round(", "|filesizeformat"),
    *("|format(", "|title", "|trim", ".split(", ".ljust(", ".zfill(", ".expandtabs("),
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_stitched_templates_fall_back_render_or_refuse(source: str) -> None:
    fmt = ChatFormat(source)
    started = time.monotonic()
    try:
        fmt.render([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
    except ChatTemplateError as e:
        assert str(e)
    assert time.monotonic() - started < 12  # two renderings of at most 5 s each
