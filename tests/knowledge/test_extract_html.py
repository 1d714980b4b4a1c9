"""app/knowledge/extract_html.py: text and headings, never scripts, styles or hidden parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.knowledge.extract_html import extract_html

PAGE = b"""<!doctype html><html><head><title>Keeper's page</title>
<style>body { color: red }</style><script>var secret = "do not index";</script></head>
<body><nav>Home | About</nav>
<h1>Lighthouses</h1><p>The lamp is lit at <b>dusk</b>.</p>
<div hidden><p>hidden text</p></div>
<h2>Fog</h2><p>The horn sounds&nbsp;twice.<br>Every minute.</p>
<table><tr><th>Part</th><th>Interval</th></tr><tr><td>Wick</td><td>daily</td></tr></table>
<noscript>enable javascript</noscript><script>alert("x")</script>
</body></html>"""


def test_text_headings_title_and_no_scripts() -> None:
    doc = extract_html(Path("page.html"), PAGE)
    texts = [b.text for b in doc.blocks]
    joined = "\n".join(texts)
    assert doc.title == "Keeper's page"
    assert "The lamp is lit at dusk." in texts
    for unwanted in ("secret", "color: red", "hidden text", "enable javascript", "alert"):
        assert unwanted not in joined
    horn = next(b for b in doc.blocks if b.text.startswith("The horn"))
    assert horn.headings == ("Lighthouses", "Fog")
    assert "Every minute." in texts  # <br> splits
    assert any("Wick" in t and "daily" in t for t in texts)


@pytest.mark.parametrize(
    "page",
    [
        b"<html><head><title>T</title><body><p>Visible",
        b"<div hidden><p>x</div><p>Visible",
        b"<p>Visible<p aria-hidden=true>x<p>Visible",
        b"<body><span style='DISPLAY : none'><p>x</span>Visible",
        b"<table><tr><td>Visible<template><p>x</template></table>",
        b"<ul><li>Visible<li style='visibility:hidden'>x</ul>",
    ],
    ids=["unclosed-head", "hidden-div", "aria-hidden", "display-none", "template", "visibility"],
)
def test_malformed_pages_keep_their_text_and_hide_what_is_hidden(page: bytes) -> None:
    doc = extract_html(Path("page.html"), page)
    joined = "\n".join(b.text for b in doc.blocks)
    assert "Visible" in joined
    assert "x" not in joined


def test_text_after_a_hidden_part_is_kept() -> None:
    doc = extract_html(Path("a.html"), b"<p>one <span hidden>secret</span>two</p>")
    assert [b.text for b in doc.blocks] == ["one two"]


def test_unclosed_headings_and_paragraphs() -> None:
    doc = extract_html(Path("a.html"), b"<title>T</title><h1>Lamps<p>Lit at dusk<h2>Fog</h2>Horn")
    assert doc.title == "T"
    assert [(b.text, b.headings, b.is_heading) for b in doc.blocks] == [
        ("Lamps", ("Lamps",), True),
        ("Lit at dusk", ("Lamps",), False),
        ("Fog", ("Lamps", "Fog"), True),
        ("Horn", ("Lamps", "Fog"), False),
    ]


def test_table_cells_are_separated_once() -> None:
    doc = extract_html(Path("a.html"), b"<table><tr><td>Wick<td>daily<tr><td>Lens<td>weekly")
    assert [b.text for b in doc.blocks] == ["Wick | daily", "Lens | weekly"]


def test_xhtml_with_xml_declaration_and_entities() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Caf\u00e9</title></head>'
        "<body><p>Caf\u00e9 &amp; cr\u00e8me &#x41;</p></body></html>"
    ).encode()
    doc = extract_html(Path("c.xhtml"), page)
    assert doc.title == "Caf\u00e9"
    assert [b.text for b in doc.blocks] == ["Caf\u00e9 & cr\u00e8me A"]
