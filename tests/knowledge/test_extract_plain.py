"""app/knowledge/extract_plain.py: text pages, Markdown headings, code, CSV rows."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract_plain import extract_code, extract_csv, extract_markdown, extract_text


def test_text_paragraphs_and_form_feed_pages() -> None:
    doc = extract_text(Path("a.txt"), b"first para\nstill first\n\nsecond\f page two text\n")
    assert doc.pages == 2
    assert [(b.text, b.page) for b in doc.blocks] == [
        ("first para\nstill first", 1), ("second", 1), (" page two text", 2),
    ]  # fmt: skip


def test_markdown_heading_path_ignores_code_fences() -> None:
    md = (
        b"# Guide\n\nintro\n\n## Install\n\n```sh\n# not a heading\npip install x\n```\n\n"
        b"### Linux\n\napt\n\n## Use\n\nrun it\n"
    )
    doc = extract_markdown(Path("g.md"), md)
    assert doc.title == "Guide"
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["apt"].headings == ("Guide", "Install", "Linux")
    assert by_text["run it"].headings == ("Guide", "Use")
    assert any("# not a heading" in t for t in by_text)


def test_code_is_text_with_kind_code() -> None:
    doc = extract_code(Path("x.py"), b"def f():\n    return 1\n\n\nclass A:\n    pass\n")
    assert doc.kind == "code" and len(doc.blocks) == 2


def test_csv_rows_read_as_column_value_pairs() -> None:
    doc = extract_csv(Path("t.csv"), b"name,height\nFastnet,54 m\nBell Rock,35 m\n")
    assert [b.text for b in doc.blocks] == [
        "name: Fastnet; height: 54 m",
        "name: Bell Rock; height: 35 m",
    ]


def test_semicolon_csv_is_sniffed() -> None:
    doc = extract_csv(Path("t.csv"), b"name;height\nFastnet;54 m\n")
    assert doc.blocks[0].text == "name: Fastnet; height: 54 m"


def test_csv_field_over_128_kib_is_a_document_error() -> None:
    data = b"name,notes\nFastnet," + b"x" * (129 * 1024) + b"\n"
    with pytest.raises(DocumentError, match=r"a field in this CSV is longer than 128 KiB"):
        extract_csv(Path("t.csv"), data)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (codecs.BOM_UTF32_LE + "hi".encode("utf-32-le")[:-1], "UTF-32"),
        (codecs.BOM_UTF32_BE + "hi".encode("utf-32-be")[:-3], "UTF-32"),
        (codecs.BOM_UTF32_LE + b"\xff\xff\xff\xff", "UTF-32"),  # past U+10FFFF
        (codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")[:-1], "UTF-16"),
        (codecs.BOM_UTF8 + b"caf\xe9", "UTF-8"),
    ],
    ids=["utf32le-cut", "utf32be-cut", "utf32-out-of-range", "utf16-cut", "utf8-bom-cp1252"],
)
def test_text_that_does_not_match_its_byte_order_mark(data: bytes, name: str) -> None:
    with pytest.raises(DocumentError, match=rf"byte-order mark but is not valid {name}"):
        extract_text(Path("a.txt"), data)
