"""app/knowledge/chunk.py: token budgets, boundaries, overlap, positions."""

from __future__ import annotations

import itertools

from app.knowledge.chunk import approx_tokens, chunk_blocks
from app.knowledge.embed import Embedder
from app.knowledge.types import Block


def _sentences(n: int, tag: str) -> str:
    return " ".join(f"Sentence {i} about {tag} has several plain words." for i in range(n))


def test_short_page_is_one_chunk_with_heading_and_page() -> None:
    blocks = [
        Block("Intro", 1, ("Intro",), True),
        Block("The keeper lights the lamp.", 1, ("Intro",)),
    ]
    [chunk] = chunk_blocks(blocks)
    assert chunk.page_start == 1 and chunk.page_end == 1 and chunk.heading == "Intro"
    assert chunk.text == "Intro\n\nThe keeper lights the lamp."
    assert chunk.embed_text().startswith("Intro\n")


def test_chunks_never_span_a_page_break_so_citations_name_one_page() -> None:
    blocks = [
        Block("Intro", 1, ("Intro",), True),
        Block("The keeper lights the lamp.", 1, ("Intro",)),
        Block("Fog horns sound.", 2, ("Intro",)),
    ]
    first, second = chunk_blocks(blocks)
    assert (first.page_start, first.page_end) == (1, 1)
    assert (second.page_start, second.page_end) == (2, 2)
    assert second.text == "Fog horns sound."  # no overlap carried across the break
    assert second.heading == "Intro"


def test_chunks_respect_target_and_max_and_overlap() -> None:
    # one long page: overlap joins chunks within a page (a page break starts afresh)
    blocks = [Block(_sentences(6, f"p{i}"), 1, ("Body",)) for i in range(20)]
    chunks = chunk_blocks(blocks, target=200, max_tokens=300, overlap=40)
    assert len(chunks) > 3
    assert all(c.n_tokens <= 300 for c in chunks)
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    for prev, cur in itertools.pairwise(chunks):
        first = cur.text.split("\n\n")[0]
        assert prev.text.endswith(first)  # overlap: the end of one starts the next
        assert approx_tokens(first) <= 40


def test_heading_starts_a_new_chunk_without_overlap() -> None:
    blocks = [
        Block("Lamps", 1, ("Lamps",), True),
        Block(_sentences(12, "lamps"), 1, ("Lamps",)),
        Block("Fog", 2, ("Fog",), True),
        Block(_sentences(3, "fog"), 2, ("Fog",)),
    ]
    chunks = chunk_blocks(blocks, target=256)
    assert [c.heading for c in chunks] == ["Lamps", "Fog"]
    assert chunks[1].text.startswith("Fog\n\n") and chunks[1].page_start == 2


def test_a_giant_paragraph_is_cut_below_max() -> None:
    giant = Block(" ".join(["word"] * 3000), 4)
    chunks = chunk_blocks([giant], target=256, max_tokens=400)
    assert len(chunks) >= 7 and all(c.n_tokens <= 400 for c in chunks)
    assert all(c.page_start == 4 for c in chunks)


def test_one_enormous_token_without_spaces_is_cut() -> None:
    chunks = chunk_blocks([Block("x" * 20000, 1)], target=256, max_tokens=400)
    assert all(c.n_tokens <= 400 for c in chunks)
    assert sum(len(c.text) for c in chunks) >= 20000


def test_model_tokenizer_counts_are_used(embedder: Embedder) -> None:
    blocks = [Block(_sentences(40, "tokens"), 1)]
    chunks = chunk_blocks(blocks, embedder.count_tokens, target=128, max_tokens=200)
    assert all(embedder.count_tokens(c.text) <= 200 + 4 for c in chunks)


def test_uneven_tokens_are_cut_to_the_limit() -> None:
    """Found by the fuzz: word windows assume evenly spread tokens; a run of punctuation
    next to longer words made a piece (and its chunk) pass max_tokens."""
    blocks = [Block("yy\xa0é\xa0z.',; é\xa0:Ω? ", 1, (), True)]
    chunks = chunk_blocks(blocks, target=2, max_tokens=4, overlap=0)
    assert all(c.n_tokens <= 4 and approx_tokens(c.text) <= 4 for c in chunks)
    assert "".join("".join(c.text.split()) for c in chunks) == "yyéz.',;é:Ω?"


def test_overlap_is_only_carried_when_it_fits_with_the_next_paragraph() -> None:
    """Found by the fuzz: the carried tail plus a paragraph near max_tokens passed it."""
    long = " ".join(f"w{i}" for i in range(38))  # one paragraph of 38 tokens
    blocks = [Block("Short one. Short two.", 1), Block(long, 1)]
    for chunk in chunk_blocks(blocks, target=20, max_tokens=40, overlap=10):
        assert chunk.n_tokens <= 40, chunk
