from __future__ import annotations

from app.engine.generate import Generation, StopText
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, SamplingOptions, TextEvent


def feed_all(stop: StopText, pieces: list[str]) -> str:
    out = "".join(stop.feed(p) for p in pieces)
    return out + ("" if stop.hit else stop.flush())


def test_stop_string_split_across_pieces() -> None:
    stop = StopText(("\nUser:",))
    assert feed_all(stop, ["Paris is", " nice.\n", "Us", "er: more"]) == "Paris is nice."
    assert stop.hit


def test_partial_stop_string_is_released() -> None:
    stop = StopText(("\nUser:",))
    assert stop.feed("a\nUs") == "a"  # held back: could be a stop string
    assert stop.feed("ually") == "\nUsually"
    assert not stop.hit


def test_text_without_stop_is_untouched() -> None:
    stop = StopText(("\nUser:",))
    assert feed_all(stop, ["one ", "two\n", "three"]) == "one two\nthree"


def test_tokens_per_s() -> None:
    gen = Generation(decode_steps=50, first_token_at=1.0, ended_at=1.5)
    assert gen.tokens_per_s == 100.0
    assert Generation().tokens_per_s == 0.0


def test_a_character_cut_by_the_length_limit_is_dropped_not_replaced(smol: ChatSession) -> None:
    """SmolLM2 writes emoji as several byte tokens: an answer cut between them used to end
    with U+FFFD. Every cut of the same greedy answer is now a clean prefix of it."""
    question = [ChatMessage("user", "Write three emoji that show happiness, and nothing else.")]

    def answer(max_tokens: int) -> str:
        events = smol.reply(question, SamplingOptions(temperature=0, max_tokens=max_tokens))
        return "".join(e.text for e in events if isinstance(e, TextEvent))

    full = answer(12)
    assert any(ord(c) > 0xFFFF for c in full), full  # the model did write multi-byte emoji
    assert "\ufffd" not in full
    cuts = [answer(k) for k in range(1, 6)]
    assert "" in cuts  # the first token alone is part of a character: nothing is shown
    for cut in cuts:
        assert "\ufffd" not in cut
        assert full.startswith(cut), (cut, full)
