"""Remembered tokenizations of prompt pieces, so a turn tokenizes only what is new.

A chat prompt is tokenized piece by piece (the text between the template's control
tokens: in practice one piece per message, ``LlamaRuntime.tokenize_segments``). Every
turn renders the whole conversation again, so without a memo turn 20 tokenizes the 19
earlier exchanges again: 25-80 ms for 2.3k tokens of SmolLM2 history on this machine
(bench/engine.py "native"), before the first token and growing with the conversation.
With it only the new question and the last answer are tokenized. Tokenizing is a pure
function of (text, flags) for one vocabulary, so the result is the same token for token.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

Tokenize = Callable[[str, bool, bool], list[int]]

MAX_PIECES = 4096  # pieces remembered (least recently used forgotten first)
MAX_CHARS = 8 << 20  # and at most this much text in all
MIN_CHARS = 16  # shorter pieces are cheaper to tokenize than to look up


class TokenMemo:
    """A drop-in for ``LlamaModel.tokenize(text, add_special, parse_special)``."""

    def __init__(self, tokenize: Tokenize) -> None:
        self._tokenize = tokenize
        self._pieces: OrderedDict[tuple[str, bool, bool], tuple[int, ...]] = OrderedDict()
        self._chars = 0
        self.hits = 0
        self.misses = 0

    def __call__(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        if len(text) < MIN_CHARS or len(text) > MAX_CHARS // 4:
            return self._tokenize(text, add_special, parse_special)
        key = (text, add_special, parse_special)
        found = self._pieces.get(key)
        if found is not None:
            self._pieces.move_to_end(key)
            self.hits += 1
            return list(found)
        tokens = self._tokenize(text, add_special, parse_special)
        self.misses += 1
        self._pieces[key] = tuple(tokens)
        self._chars += len(text)
        while len(self._pieces) > MAX_PIECES or self._chars > MAX_CHARS:
            (old, _, _), _ = self._pieces.popitem(last=False)
            self._chars -= len(old)
        return tokens

    def clear(self) -> None:
        self._pieces.clear()
        self._chars = 0
