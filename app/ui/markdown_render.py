"""Answers as Markdown, turned into the rich text Qt shows (markdown-it-py + pygments).

``render(text)`` gives a ``Rendered``: HTML for a ``QTextDocument`` and the code blocks'
texts (a code block's "Copy" link is ``copy-code:N``, N indexing ``codes``).

Safety: raw HTML in an answer is shown as text (``html=False``), ``javascript:``,
``file:`` and ``data:`` links are not links (markdown-it's own check), and an image is
never an ``<img>``: it becomes a link naming the picture, so rendering loads nothing.

``app.ui.markdown_stream`` renders an answer while it streams.
"""

from __future__ import annotations

import contextlib
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
    "#2b2e35",
    "#363a42",
    "#a8adb5",
    "#4a4f57",
    HtmlFormatter(nowrap=True, noclasses=True, style="github-dark"),
)


@dataclass
class Rendered:
    html: str
    codes: list[str] = field(default_factory=list)
    continues_code: bool = False  # its first code block goes on from the previous piece
    opens_code: bool = False  # its last code block goes on in the next piece


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
    head = not env.pop("continuation", False)  # a streamed block's later part: no header
    n = len(codes)
    codes.append(code)
    return code_table(code, lang, env.get("theme", LIGHT), n if head else None)


def code_table(
    code: str, lang: str, theme: Theme, copy_n: int | None, open_end: bool = False
) -> str:
    """A highlighted code block; with a header (language, "Copy" link ``copy-code:N``)
    unless ``copy_n`` is None; ``open_end``: the block goes on in the next piece."""
    body = highlight_code(code.rstrip("\n"), lang, theme)
    top = 4 if copy_n is not None else 0
    bottom = 0 if open_end else 8
    cell = ("" if copy_n is not None else "padding-top:0; ") + (
        "padding-bottom:0;" if open_end else ""
    )
    head = ""
    if copy_n is not None:
        label = html.escape(lang) if lang else "code"
        head = (
            f'<tr><td bgcolor="{theme.code_head}"><span style="color:{theme.muted};">'
            f'{label}</span>&nbsp;&nbsp;&nbsp;<a href="copy-code:{copy_n}">Copy</a></td></tr>'
        )
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{theme.code_bg}" '
        f'style="margin-top:{top}px; margin-bottom:{bottom}px;">'
        f'{head}<tr><td style="{cell}"><pre>{body}</pre></td></tr></table>\n'
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


def render(text: str, dark: bool = False, continuation: bool = False) -> Rendered:
    """One piece of Markdown as rich text for Qt (see the module docstring); ``dark``:
    colours for a dark window; ``continuation``: the text starts with the rest of a code
    block whose beginning is in an earlier piece (no header for it)."""
    theme = DARK if dark else LIGHT
    env: dict[str, Any] = {"codes": [], "theme": theme, "continuation": continuation}
    out = _MD.render(text, env)
    tags = _TAGS[theme]
    out = _TAG_RE.sub(lambda m: tags[m.group(0)], out)  # raw HTML never reaches here
    return Rendered(out, list(env["codes"]), continues_code=continuation)


WARM_LANGUAGES = ("python", "bash", "javascript", "typescript", "json", "c", "cpp", "rust")
WARM_LANGUAGES += ("go", "java", "sql", "html", "yaml", "markdown")


def warm_up() -> None:
    """Import pygments' lexers for common languages ahead of the first answer (the first
    ```python block of a session otherwise spends ~50 ms importing its lexer while the
    answer streams). Safe to run on a background thread: it touches no Qt object."""
    for lang in WARM_LANGUAGES:
        with contextlib.suppress(ClassNotFound):
            get_lexer_by_name(lang)
    render("```python\nx = 1\n```\n\n| a |\n|---|\n| 1 |")
