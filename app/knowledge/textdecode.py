"""Bytes -> text for plain-text formats, with encoding detection and a binary check.

Order: a byte-order mark (UTF-8/16/32; bytes that do not decode as the mark says are a
damaged file, a ``DocumentError``); a UTF-16 guess (NUL bytes in every other position);
UTF-8; for short files cp1252; charset-normalizer when it is installed (it guesses poorly
on a few bytes); then cp1252 with replacement characters. Text that decodes but is mostly
control characters is a binary file with a text extension.
"""

from __future__ import annotations

import codecs

from app.errors import DocumentError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}
BINARY_MESSAGE = "this looks like a binary file, not text; it was not indexed"


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in _ALLOWED_CONTROLS)
    bad += sample.count("\ufffd")
    return bad / len(sample)


def _detect(data: bytes) -> str:
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:  # truncated, or not the encoding it claims
                raise DocumentError(
                    f"this file starts with a {name} byte-order mark but is not valid {name} "
                    f"(damaged or cut short at byte {exc.start}); it was not indexed"
                ) from exc
    utf16 = _looks_utf16(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    if b"\x00" in data[:8192]:
        raise DocumentError(BINARY_MESSAGE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) < 4096:  # too little text for statistics: the common Western code page
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    try:
        import charset_normalizer
    except ImportError:  # optional: fall through to the cp1252 ladder
        charset_normalizer = None  # type: ignore[assignment]
    if charset_normalizer is not None:
        best = charset_normalizer.from_bytes(data[:1_000_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    return data.decode("cp1252", errors="replace")


def decode_text(data: bytes) -> str:
    """Decode a text file's bytes; raises ``DocumentError`` for binary content."""
    text = _detect(data)
    if _control_ratio(text) > 0.05:
        raise DocumentError(BINARY_MESSAGE)
    return text.replace("\r\n", "\n").replace("\r", "\n")
