"""app/knowledge/textdecode.py: encodings detected, binary refused."""

from __future__ import annotations

import codecs

import pytest

from app.errors import DocumentError
from app.knowledge.textdecode import BINARY_MESSAGE, decode_text


@pytest.mark.parametrize(
    "data",
    [
        "Café crème, naïve résumé".encode(),
        codecs.BOM_UTF8 + "Café crème, naïve résumé".encode(),
        "Café crème, naïve résumé".encode("utf-16"),
        "Café crème, naïve résumé".encode("utf-16-le"),
        "Café crème, naïve résumé".encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-no-bom", "cp1252"],
)
def test_encodings_are_detected(data: bytes) -> None:
    assert decode_text(data) == "Café crème, naïve résumé"


def test_line_endings_are_normalised() -> None:
    assert decode_text(b"a\r\nb\rc\n") == "a\nb\nc\n"


def test_binary_bytes_are_refused() -> None:
    with pytest.raises(DocumentError, match=BINARY_MESSAGE):
        decode_text(bytes(range(256)) * 40)


def test_control_characters_without_nul_are_refused() -> None:
    with pytest.raises(DocumentError, match="binary"):
        decode_text(b"\x01\x02\x03\x04\x05\x06\x07\x08" * 100 + b"text")


def test_longer_legacy_encoding_is_detected_statistically() -> None:
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 100
    assert decode_text(text.encode("cp1251")) == text
