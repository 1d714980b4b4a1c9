"""Citations ``[n]`` in an answer as ``cite:MESSAGE:N`` links (Markdown for the chat view).

The link names the answer's message id, so a click on an old answer's ``[2]`` opens that
answer's second source, not the latest answer's.
"""

from __future__ import annotations

import re

_CITE = re.compile(r"\[(\d{1,3})\](?!\()")


def link_citations_markdown(text: str, message_id: int, n_sources: int) -> str:
    """``text`` with each valid ``[n]`` (1..n_sources) made a Markdown link."""
    if n_sources <= 0:
        return text

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_sources:
            return f"[\\[{n}\\]](cite:{message_id}:{n})"
        return match.group(0)

    return _CITE.sub(repl, text)


def parse_cite_link(link: str) -> tuple[int, int] | None:
    """``(message_id, n)`` for a ``cite:MESSAGE:N`` link, else ``None``."""
    match = re.fullmatch(r"cite:(\d+):(\d+)", link)
    return (int(match.group(1)), int(match.group(2))) if match else None
