"""Markdown for answers: markdown-it-py + pygments, safe, and incremental while streaming."""

from __future__ import annotations

import pytest

from app.ui.markdown_render import render


def test_the_usual_markdown_is_rendered() -> None:
    out = render(
        "# Title\n\nSome **bold**, *it*, `code` and [a link](https://example.org).\n\n"
        "- one\n- two\n\n1. first\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    ).html
    for tag in ("<h1>", "<strong>", "<em>", "<code", "<ul>", "<ol>", "<blockquote", "<table"):
        assert tag in out
    assert '<a href="https://example.org">a link</a>' in out


def test_fenced_code_is_highlighted_and_kept_for_copy() -> None:
    out = render("```python\ndef f():\n    return 1\n```\n\n```\nplain <b>\n```")
    assert out.codes == ["def f():\n    return 1\n", "plain <b>\n"]
    assert "copy-code:0" in out.html and "copy-code:1" in out.html
    assert '<span style="color: #008000; font-weight: bold">def</span>' in out.html
    assert "plain &lt;b&gt;" in out.html  # unknown language: escaped, not highlighted


@pytest.mark.parametrize(
    "markdown",
    [
        "![x](http://127.0.0.1:9/a.png)",
        "![x](file:///etc/hostname)",
        "![x](/dev/zero)",
        '<img src="http://127.0.0.1:9/b.png">',
        "<script>alert(1)</script>",
        '<link rel="stylesheet" href="http://127.0.0.1:9/c.css">',
    ],
)
def test_nothing_in_the_html_can_load_a_resource(markdown: str) -> None:
    out = render(markdown).html
    assert "<img" not in out and "<link" not in out and "<script" not in out


def test_file_and_javascript_links_are_not_links() -> None:
    out = render("[a](file:///etc/passwd) [b](javascript:alert(1)) [c](https://ok.example)").html
    assert out.count("<a ") == 1 and 'href="https://ok.example"' in out


def test_a_dark_window_gets_dark_code_blocks() -> None:
    light = render("```python\nx = 1\n```").html
    dark = render("```python\nx = 1\n```", dark=True).html
    assert 'bgcolor="#f4f5f7"' in light and 'bgcolor="#f4f5f7"' not in dark
    assert 'bgcolor="#2b2e35"' in dark  # light code on a dark ground, not on a light one
