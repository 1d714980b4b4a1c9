"""app/knowledge/extract_html.py: text and headings, never scripts, styles or hidden parts."""

from __future__ import annotations

from pathlib import Path

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
