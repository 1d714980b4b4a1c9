"""app/knowledge/extract.py: kinds, limits and every bad-input message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract import Limits, kind_for, read_bytes, read_document
from tests.fixtures.docs.make import make_docx, make_pdf, make_zip_bomb_docx
from tests.fixtures.unprivileged import as_nobody, traversable_folder


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.PDF", "pdf"), ("b.docx", "docx"), ("c.md", "markdown"), ("d.htm", "html"),
     ("x.epub", "epub"), ("y.PPTX", "pptx"),
     ("e.csv", "csv"), ("f.py", "code"), ("g.txt", "text"), ("README", "text"), ("h.xyz", None)],
)  # fmt: skip
def test_kind_by_suffix(name: str, kind: str | None) -> None:
    assert kind_for(Path(name)) == kind


def test_reads_each_format(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", [["pdf words here"]])
    docx = make_docx(tmp_path / "b.docx")
    md = tmp_path / "c.md"
    md.write_text("# Head\n\nmarkdown words\n")
    for path, needle in [(pdf, "pdf words"), (docx, "horn sounds"), (md, "markdown words")]:
        data, doc = read_document(path)
        assert data == path.read_bytes()
        assert any(needle in b.text for b in doc.blocks)


def test_unknown_suffix_is_tried_as_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.xyz"
    path.write_text("plain words in an odd file")
    assert read_document(path)[1].blocks[0].text == "plain words in an odd file"


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.touch()
    with pytest.raises(DocumentError, match=r"^the file is empty$"):
        read_document(path)


def test_whitespace_only_file_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text("\n\n   \n")
    with pytest.raises(DocumentError, match="no text found"):
        read_document(path)


def test_binary_file_with_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DocumentError, match="binary file, not text"):
        read_document(path)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 300_000)  # 1.5 MB
    with pytest.raises(DocumentError, match=r"the file is 1\.4 MB, over the 1 MB limit"):
        read_document(path, Limits(max_file_bytes=1024 * 1024))


def test_zip_bomb_docx_under_the_default_limits(tmp_path: Path) -> None:
    path = make_zip_bomb_docx(tmp_path / "bomb.docx", unpacked_mb=210)
    with pytest.raises(DocumentError, match="zip bomb"):
        read_document(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="the file is gone"):
        read_bytes(tmp_path / "nope.txt", Limits())


def test_folder_is_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="not a regular file"):
        read_bytes(tmp_path, Limits())


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_no_read_permission_as_an_unprivileged_user() -> None:
    """A mode-000 file, read as ``nobody`` (root reads anything; see tests/fixtures)."""
    with traversable_folder() as folder:
        secret = folder / "secret.txt"
        secret.write_text("you may not read this")
        secret.chmod(0o000)

        def read() -> str:
            read_bytes(secret, Limits())
            return "READ OK"

        assert as_nobody(read) == "DocumentError: no permission to read this file"
