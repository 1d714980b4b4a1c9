"""Markdown while it streams: finished blocks rendered once, only the open tail again."""

from __future__ import annotations

from typing import Any

from app.ui import markdown_stream
from app.ui.markdown_stream import SEGMENT_LINES, MarkdownStream, split_finished


def test_finished_blocks_end_at_blank_lines_outside_fences() -> None:
    assert split_finished("para one\n\npara tw") == len("para one\n\n")
    assert split_finished("para one\n\n") == 0  # the next block has not begun
    fenced = "```\ncode\n\nmore code\n"
    assert split_finished(fenced) == 0  # a blank line inside a fence ends nothing
    assert split_finished(fenced + "```\n\nafter") == len(fenced + "```\n\n")
    assert split_finished("- item\n\n  continued") == 0  # indented: the item goes on


def test_streaming_renders_each_finished_block_once(monkeypatch: Any) -> None:
    rendered_chars: list[int] = []
    real = markdown_stream.render

    def counting(text: str, dark: bool = False, continuation: bool = False) -> Any:
        rendered_chars.append(len(text))
        return real(text, dark, continuation)

    monkeypatch.setattr(markdown_stream, "render", counting)
    paragraphs = [f"Paragraph {i} has **some** words in it to stream." for i in range(200)]
    text = "\n\n".join(paragraphs)
    stream = MarkdownStream()
    finished_html: list[str] = []
    for word in text.split(" "):
        stream.feed(word + " ")
        finished, _tail = stream.take()
        finished_html.extend(block.html for block in finished)
    assert len(finished_html) == 199  # every paragraph but the open last one, once each
    assert sum(rendered_chars) < 20 * len(text)  # linear, not quadratic (~ n^2 / 2)


def test_leading_blank_text_is_not_started() -> None:
    stream = MarkdownStream()
    stream.feed("\n\n  ")
    assert not stream.started
    stream.feed("Hi")
    assert stream.started and stream.tail_text == "Hi"


def test_a_fence_at_the_margin_starts_a_block_and_its_closing_ends_it() -> None:
    assert split_finished("Here:\n```python\nx = 1\n") == len("Here:\n")
    assert split_finished("```\nx\n```\nNext") == len("```\nx\n```\n")


def test_a_long_open_code_block_is_cut_into_pieces_that_copy_whole(
    monkeypatch: Any,
) -> None:
    rendered_chars: list[int] = []
    real = markdown_stream.render

    def counting(text: str, dark: bool = False, continuation: bool = False) -> Any:
        rendered_chars.append(len(text))
        return real(text, dark, continuation)

    monkeypatch.setattr(markdown_stream, "render", counting)
    lines = [f"value_{i} = {i} * 2  # line {i}" for i in range(300)]
    stream = MarkdownStream()
    pieces = []
    stream.feed("```python\n")
    for line in lines:
        stream.feed(line + "\n")
        finished, tail = stream.take()
        pieces.extend(finished)
    stream.feed("```\n\nDone.")
    finished, tail = stream.take()
    pieces.extend(finished)
    assert len(pieces) >= 300 // SEGMENT_LINES
    assert "copy-code:0" in pieces[0].html and pieces[0].opens_code
    assert all(p.continues_code and "copy-code" not in p.html for p in pieces[1:])
    assert "".join(code for p in pieces for code in p.codes[:1]) == "\n".join(lines) + "\n"
    assert max(rendered_chars) < 3 * SEGMENT_LINES * 40  # the tail stays short
    assert "Done." in tail.html


def test_a_long_tight_list_goes_on_as_new_lists() -> None:
    items = "".join(f"{n}. item {n}\n" for n in range(1, 101))
    cut = split_finished(items + "more")
    assert cut >= len("".join(f"{n}. item {n}\n" for n in range(1, SEGMENT_LINES + 1)))
    assert items[cut:].startswith(f"{(cut and items[:cut].count(chr(10))) + 1}. item")
    assert split_finished("- a\n- b\n- c\n") == 0  # a short list stays one block
