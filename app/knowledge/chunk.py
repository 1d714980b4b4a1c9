"""Split extracted blocks into overlapping chunks measured in embedding-model tokens.

Chunks aim at ``target`` tokens and never pass ``max_tokens``; they end at paragraph
boundaries, start afresh at a heading (no overlap across sections) and never span a page
break, so a citation names exactly the page its text is on. Inside a section,
the next chunk repeats the last sentences of the previous one (up to ``overlap`` tokens).
A paragraph too long for one chunk is cut at sentences, then lines, then words.
``count_tokens`` is the embedding model's tokenizer; ``approx_tokens`` stands in when
there is no model (keyword-only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.knowledge.types import Block, Chunk

TokenCounter = Callable[[str], int]
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+(?=\S)")
_WORDISH = re.compile(r"\w+|[^\w\s]")


def approx_tokens(text: str) -> int:
    """A WordPiece-like estimate: words and punctuation, long words count extra."""
    return sum(1 + len(tok) // 8 for tok in _WORDISH.findall(text))


@dataclass
class _Unit:
    text: str
    page: int
    headings: tuple[str, ...]
    is_heading: bool
    n_tokens: int


def _pieces(text: str, n_tokens: int, max_tokens: int, count: TokenCounter) -> list[str]:
    """Cut text that is longer than max_tokens: sentences, then lines, then word windows."""
    for pattern in (_SENTENCE, re.compile(r"\n+")):
        parts = [p for p in pattern.split(text) if p.strip()]
        if len(parts) > 1:
            out: list[str] = []
            for part in parts:
                n = count(part)
                out.extend(_pieces(part, n, max_tokens, count) if n > max_tokens else [part])
            return out
    words = text.split()
    if len(words) <= 1:  # one enormous "word": cut by characters
        step = max(1, len(text) * max_tokens // max(n_tokens, 1))
        windows = [text[i : i + step] for i in range(0, len(text), step)]
    else:
        per = max(1, len(words) * max_tokens // max(n_tokens, 1) * 9 // 10)
        windows = [" ".join(words[i : i + per]) for i in range(0, len(words), per)]
    # The windows assume tokens are spread evenly; where they are not (a run of
    # punctuation next to long words), halve what is still over the limit.
    return [piece for window in windows for piece in _fit(window, max_tokens, count)]


def _fit(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """``text`` as pieces of at most ``max_tokens`` (halved by words, then characters)."""
    if len(text) <= 1 or count(text) <= max_tokens:
        return [text]
    words = text.split()
    if len(words) > 1:
        half = len(words) // 2
        left, right = " ".join(words[:half]), " ".join(words[half:])
    else:
        half = len(text) // 2
        left, right = text[:half], text[half:]
    return _fit(left, max_tokens, count) + _fit(right, max_tokens, count)


def _units(blocks: list[Block], count: TokenCounter, max_tokens: int) -> list[_Unit]:
    units = []
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        n = count(text)
        if n <= max_tokens:
            units.append(_Unit(text, block.page, block.headings, block.is_heading, n))
            continue
        for piece in _pieces(text, n, max_tokens, count):
            piece = piece.strip()  # a cut by characters can leave only spaces
            if piece:
                units.append(_Unit(piece, block.page, block.headings, False, count(piece)))
    return units


def _tail(unit: _Unit, overlap: int, count: TokenCounter) -> _Unit | None:
    """The last sentences of a unit, at most ``overlap`` tokens (None if none fit)."""
    if unit.is_heading or overlap <= 0:
        return None
    if unit.n_tokens <= overlap:
        return unit
    sentences = [s for s in _SENTENCE.split(unit.text) if s.strip()]
    taken: list[str] = []
    total = 0
    for sentence in reversed(sentences[1:]):
        n = count(sentence)
        if total + n > overlap:
            break
        taken.insert(0, sentence)
        total += n
    if not taken:
        return None
    return _Unit(" ".join(taken), unit.page, unit.headings, False, total)


def chunk_blocks(
    blocks: list[Block],
    count_tokens: TokenCounter = approx_tokens,
    *,
    target: int = 256,
    max_tokens: int = 400,
    overlap: int = 40,
) -> list[Chunk]:
    units = _units(blocks, count_tokens, max_tokens)
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    carried = 0  # how many leading units of `current` are overlap from the previous chunk

    def size() -> int:
        return sum(u.n_tokens for u in current)

    def flush() -> None:
        nonlocal current, carried
        if len(current) > carried:
            first = current[carried]
            chunks.append(
                Chunk(
                    ord=len(chunks),
                    text="\n\n".join(u.text for u in current),
                    page_start=min(u.page for u in current),
                    page_end=max(u.page for u in current),
                    heading=" > ".join(first.headings),
                    n_tokens=size(),
                )
            )
        current, carried = [], 0

    for unit in units:
        new_section = unit.is_heading or (current and unit.headings[:1] != current[-1].headings[:1])
        new_page = bool(current) and unit.page != current[-1].page
        if new_page or (
            new_section and size() - sum(u.n_tokens for u in current[:carried]) >= target // 4
        ):
            flush()
        elif current and size() + unit.n_tokens > target:
            tail = _tail(current[-1], overlap, count_tokens)
            flush()
            if (
                tail is not None
                and tail.headings == unit.headings
                and tail.n_tokens + unit.n_tokens <= max_tokens  # the overlap must fit too
            ):
                current, carried = [tail], 1
        current.append(unit)
    flush()
    return chunks
