"""Citations ``[n]`` in an answer as ``cite:MESSAGE:N`` links (Markdown for the chat view).

The link names the answer's message id, so a click on an old answer's ``[2]`` opens that
answer's second source, not the latest answer's.

Attribution (``app.chat.attribution``) adds what the model did not write: once the docs
controller has remembered an answer's sentence citations (``remember_attribution``), each
supported sentence gets its ``[n]`` when the answer has no markers of its own, and each
sentence no source supports is marked "not found in your documents".
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

_CITE = re.compile(r"\[(\d{1,3})\](?!\()")
# Code the answer shows as code: a fenced block (to its closing fence or the end) and
# inline `code`. A mark or a link there would be shown inside the code as text.
_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_INLINE = re.compile(r"`[^`\n]+`")
NOT_FOUND_MARK = " \u26a0\ufe0e *(not found in your documents)*"
_KEPT = 256  # answers whose attribution is remembered (the chats shown lately)
_attributions: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()


def remember_attribution(message_id: int, citations: list[dict[str, Any]]) -> None:
    """The sentence citations of an answer, for its next rendering."""
    _attributions[message_id] = list(citations)
    _attributions.move_to_end(message_id)
    while len(_attributions) > _KEPT:
        _attributions.popitem(last=False)


def forget_attributions() -> None:
    """A new window (a database whose message ids mean other answers): start empty."""
    _attributions.clear()


def attributed_markdown(text: str, citations: list[dict[str, Any]], n_sources: int) -> str:
    """``text`` with ``[n]`` after each supported sentence (only when the model wrote no
    valid marker itself) and the "not found" mark after each unsupported one."""
    code = _code_spans(text)
    own = any(
        1 <= int(m.group(1)) <= n_sources and not _inside(m.start(), code)
        for m in _CITE.finditer(text)
    )
    out, at = [], 0
    for c in citations:
        sentence = str(c.get("sentence") or "")
        found = text.find(sentence, at) if sentence else -1
        if found < 0:
            continue
        end = found + len(sentence)
        out.append(text[at:end])
        at = end
        if _inside(end, code):  # a line of code: the Sources panel lists it instead
            continue
        n = c.get("source")
        if isinstance(n, int) and 1 <= n <= n_sources:
            if not own:
                out.append(f" [{n}]")
        elif n is None:
            out.append(NOT_FOUND_MARK)
    out.append(text[at:])
    return "".join(out)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the fenced blocks and inline code of ``text``."""
    spans = [(m.start(), m.end()) for m in _FENCED.finditer(text)]
    inline = [(m.start(), m.end()) for m in _INLINE.finditer(text)]
    return spans + [(a, b) for a, b in inline if not _inside(a, spans)]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``pos`` (an index, or an insertion point) falls within a span."""
    return any(start < pos < end or (start == pos < end) for start, end in spans)


def link_citations_markdown(text: str, message_id: int, n_sources: int) -> str:
    """``text`` with each valid ``[n]`` (1..n_sources) made a Markdown link, after the
    remembered attribution of ``message_id`` (if any) added its citations and marks."""
    if n_sources <= 0:
        return text
    citations = _attributions.get(message_id)
    if citations:
        text = attributed_markdown(text, citations, n_sources)

    code = _code_spans(text)

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_sources and not _inside(match.start(), code):
            return f"[\\[{n}\\]](cite:{message_id}:{n})"
        return match.group(0)

    return _CITE.sub(repl, text)


def parse_cite_link(link: str) -> tuple[int, int] | None:
    """``(message_id, n)`` for a ``cite:MESSAGE:N`` link, else ``None``."""
    match = re.fullmatch(r"cite:(\d+):(\d+)", link)
    return (int(match.group(1)), int(match.group(2))) if match else None
