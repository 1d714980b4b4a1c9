"""Fuzz the chunker: arbitrary blocks are covered, page-true and within the size limit."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.knowledge.chunk import approx_tokens, chunk_blocks
from app.knowledge.types import Block

_ALPHABET = st.sampled_from([*list("ab yz.!?;:\n\t-,'"), "é", "漢", "\xa0", "\x0c", "Ω"])
_TEXT = st.one_of(
    st.text(_ALPHABET, max_size=400),
    st.text(max_size=200),  # any code point, surrogates aside
    st.builds(
        lambda w, n: (w + " ") * n, st.text(_ALPHABET, min_size=1, max_size=30), st.integers(0, 60)
    ),
)
_BLOCK = st.builds(
    Block,
    text=_TEXT,
    page=st.integers(1, 4),
    headings=st.lists(st.sampled_from(["Intro", "Lamp", "Fog"]), max_size=2).map(tuple),
    is_heading=st.booleans(),
)


@st.composite
def _budgets(draw: st.DrawFn) -> tuple[int, int, int]:
    max_tokens = draw(st.integers(4, 80))
    target = draw(st.integers(2, max_tokens))
    overlap = draw(st.integers(0, target // 2))
    return target, max_tokens, overlap


def _nonspace(text: str) -> str:
    return "".join(text.split())


def _is_subsequence(needle: str, haystack: str) -> bool:
    rest = iter(haystack)
    return all(ch in rest for ch in needle)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(_BLOCK, max_size=12), budgets=_budgets())
# found by CI on 2026-12-05: a cut by characters left a chunk of two spaces
@example(blocks=[Block("::::a  \n:::", 1, (), False)], budgets=(2, 4, 0))
def test_chunks_cover_the_text_stay_on_their_page_and_fit(
    blocks: list[Block], budgets: tuple[int, int, int]
) -> None:
    target, max_tokens, overlap = budgets
    chunks = chunk_blocks(blocks, target=target, max_tokens=max_tokens, overlap=overlap)
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    pages = {b.page for b in blocks if b.text.strip()}
    for chunk in chunks:
        assert chunk.page_start == chunk.page_end  # never across a page break
        assert chunk.page_start in pages
        assert chunk.text.strip()
        assert chunk.n_tokens <= max_tokens, (chunk.n_tokens, max_tokens)
        assert approx_tokens(chunk.text) <= max_tokens, chunk.text
    for page in pages:  # every character of the page, in order (overlap only repeats)
        source = _nonspace("".join(b.text for b in blocks if b.page == page))
        covered = _nonspace("".join(c.text for c in chunks if c.page_start == page))
        assert _is_subsequence(source, covered)
