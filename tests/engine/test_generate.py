from __future__ import annotations

from app.engine.generate import Generation, StopText


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
