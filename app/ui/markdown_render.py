"""Answers as Markdown, turned into the rich text Qt shows (markdown-it-py + pygments).

``render(text)`` gives a ``Rendered``: HTML for a ``QTextDocument`` and the code blocks'
texts (a code block's "Copy" link is ``copy-code:N``, N indexing ``codes``).

Safety: raw HTML in an answer is shown as text (``html=False``), ``javascript:``,
``file:`` and ``data:`` links are not links (markdown-it's own check), and an image is
never an ``<img>``: it becomes a link naming the picture, so rendering loads nothing.

``MarkdownStream`` renders an answer while it streams without work that grows with the
answer's square: text up to the last finished top-level block (a blank line outside a
code fence, followed by a line that is not indented) is rendered once and handed out as
a finished block; only the open tail is rendered again on each repaint.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Theme:
    """Colours of code, tables and quotes for a light or a dark window."""

    code_bg: str
    code_head: str
    muted: str
    border: str
    formatter: HtmlFormatter  # type: ignore[type-arg]


LIGHT = Theme(
    "#f4f5f7",
    "#e6e8eb",
    "#555555",
    "#c8c8c8",
    HtmlFormatter(nowrap=True, noclasses=True, style="default"),
)
DARK = Theme(
    "#1f2227",
    "#2b2f36",
    "#a8adb5",
    "#4a4f57",
    HtmlFormatter(nowrap=True, noclasses=True, style="github-dark"),
)


@dataclass
class Rendered:
    html: str
    codes: list[str] = field(default_factory=list)


def _fence(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    lang = token.info.strip().split(" ")[0] if token.info else ""
    return _code_block(token.content, lang, env)


def _code(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _code_block(tokens[idx].content, "", env)


def _code_block(code: str, lang: str, env: EnvType) -> str:
    codes: list[str] = env.setdefault("codes", [])
    theme: Theme = env.get("theme", LIGHT)
    n = len(codes)
    codes.append(code)
    body = highlight_code(code.rstrip("\n"), lang, theme)
    label = html.escape(lang) if lang else "code"
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{theme.code_bg}" '
        f'style="margin-top:4px; margin-bottom:8px;">'
        f'<tr><td bgcolor="{theme.code_head}"><span style="color:{theme.muted};">{label}</span>'
        f'&nbsp;&nbsp;&nbsp;<a href="copy-code:{n}">Copy</a></td></tr>'
        f"<tr><td><pre>{body}</pre></td></tr></table>\n"
    )


def highlight_code(code: str, lang: str, theme: Theme = LIGHT) -> str:
    """``code`` as HTML spans coloured by pygments (escaped text when the language is
    unknown or missing)."""
    if lang:
        try:
            lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
        except ClassNotFound:
            lexer = None
        if lexer is not None:
            return str(highlight(code, lexer, theme.formatter)).rstrip("\n")
    return html.escape(code)


def _image(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An image is shown as a link that names it: nothing is fetched or read."""
    token = tokens[idx]
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env) or "image")
    src = str(token.attrs.get("src", ""))
    if src.startswith(("http://", "https://")):
        return f'<a href="{html.escape(src)}">[image: {alt}]</a>'
    return f"[image: {alt}]"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _code)
    md.add_render_rule("image", _image)
    return md


_MD = _parser()


def _tags(theme: Theme) -> dict[str, str]:
    return {
        "<table>": '<table border="1" cellspacing="0" cellpadding="4" '
        f'style="border-color:{theme.border}; border-style:solid; margin-bottom:8px;">',
        "<code>": f'<code style="background-color:{theme.code_bg};">',
        "<blockquote>": f'<blockquote style="color:{theme.muted}; margin-left:12px;">',
    }


_TAGS = {LIGHT: _tags(LIGHT), DARK: _tags(DARK)}
_TAG_RE = re.compile("|".join(re.escape(tag) for tag in _TAGS[LIGHT]))


def render(text: str, dark: bool = False) -> Rendered:
    """One piece of Markdown as rich text for Qt (see the module docstring); ``dark``:
    colours for a dark window."""
    theme = DARK if dark else LIGHT
    env: dict[str, Any] = {"codes": [], "theme": theme}
    out = _MD.render(text, env)
    tags = _TAGS[theme]
    out = _TAG_RE.sub(lambda m: tags[m.group(0)], out)  # raw HTML never reaches here
    return Rendered(out, list(env["codes"]))


def split_finished(text: str) -> int:
    """Where the finished top-level blocks of ``text`` end (0: none finished yet).

    A block is finished at a blank line outside a code fence once the next line has
    begun and is not indented (an indented line may continue a list item)."""
    fence: str | None = None
    cut = 0
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        pos += len(line) + 1
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence[0] * len(fence)):
            if not line.strip().strip(fence[0]):
                fence = None
        elif fence is None and not line.strip():
            following = lines[i + 1]
            if following and not following[0].isspace():
                cut = pos
    return cut


class MarkdownStream:
    """An answer's Markdown as it grows: finished blocks once, the open tail each time.

    ``feed(piece)`` adds text; ``take()`` returns ``(finished, tail)``: ``Rendered``
    blocks finished since the last call (render them once and keep them) and the open
    tail's rendering (replace the previous one)."""

    def __init__(self, dark: bool = False) -> None:
        self._tail = ""
        self.dark = dark
        self.started = False  # leading blank lines are not shown

    def feed(self, piece: str) -> None:
        if not self.started:
            piece = piece.lstrip()
            if not piece:
                return
            self.started = True
        self._tail += piece

    @property
    def tail_text(self) -> str:
        return self._tail

    def take(self) -> tuple[list[Rendered], Rendered]:
        cut = split_finished(self._tail)
        finished: list[Rendered] = []
        if cut:
            finished.append(render(self._tail[:cut], self.dark))
            self._tail = self._tail[cut:]
        return finished, render(self._tail, self.dark)
