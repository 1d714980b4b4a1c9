"""DOCX: paragraphs and tables in reading order, headings, page breaks, streamed.

The body (``word/document.xml``) is streamed through lxml into a small state machine
(``extract_docx_body``), never built into a tree: a hostile DOCX of millions of tiny
paragraphs costs time and memory only up to the ``Budget``, then stops with a
``DocumentError``. Styles and core properties are small parts parsed with defusedxml.
Page numbers come from the page breaks Word recorded (``w:lastRenderedPageBreak``) or,
failing those, from explicit page breaks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget, MiB
from app.knowledge.extract_docx_body import BodyTarget, W
from app.knowledge.extract_package import (
    open_package,
    parse_part,
    relationships,
    stream_part,
)
from app.knowledge.types import Block, Extracted

__all__ = ["MiB", "extract_docx"]  # MiB: callers imported it from here

_DC = "{http://purl.org/dc/elements/1.1/}"


def _related(rels: list[tuple[str, str, str]], kind: str) -> str | None:
    """The path of the first relationship whose type ends with ``/kind``."""
    return next((target for type_, target, _ in rels if type_.endswith(f"/{kind}")), None)


def _styles(zf: zipfile.ZipFile, main: str, budget: Budget) -> tuple[dict[str, str], str]:
    """Paragraph style names by style id, and the default paragraph style's name."""
    names: dict[str, str] = {}
    default = ""
    part = _related(relationships(zf, main, "DOCX", budget), "styles")
    if part is None or part not in zf.namelist():
        return names, default
    for style in parse_part(zf, part, "DOCX", budget).iter(f"{W}style"):
        if style.get(f"{W}type", "paragraph") != "paragraph":
            continue
        name_el = style.find(f"{W}name")
        name = (name_el.get(f"{W}val", "") if name_el is not None else "") or ""
        names[style.get(f"{W}styleId", "")] = name
        if style.get(f"{W}default") in ("1", "true", "on"):
            default = name
    return names, default


def _title(zf: zipfile.ZipFile, part: str | None, budget: Budget) -> str | None:
    if part is None or part not in zf.namelist():
        return None
    el = parse_part(zf, part, "DOCX", budget).find(f"{_DC}title")
    return ((el.text if el is not None else "") or "").strip() or None


def extract_docx(path: Path, data: bytes, budget: Budget | None = None) -> Extracted:
    budget = budget or Budget()
    with open_package(data, budget.limits.max_unpacked_bytes, "DOCX") as zf:
        if "_rels/.rels" not in zf.namelist():
            raise DocumentError("this DOCX is damaged (_rels/.rels is missing)")
        package = relationships(zf, "", "DOCX", budget)
        main = _related(package, "officeDocument")
        if main is None:
            raise DocumentError("this DOCX is damaged (it names no main document)")
        styles, default_style = _styles(zf, main, budget)
        title = _title(zf, _related(package, "core-properties"), budget)
        body = BodyTarget(budget, styles, default_style)
        stream_part(zf, main, "DOCX", body, budget)
    rendered = body.rendered_breaks > 0
    blocks = [
        Block(text=r.text, page=1 + (r.rendered if rendered else r.explicit),
              headings=r.headings, is_heading=r.is_heading)
        for r in body.records
    ]  # fmt: skip
    pages = 1 + (body.rendered_breaks if rendered else body.explicit_breaks)
    return Extracted(path=path, kind="docx", pages=pages, blocks=blocks, title=title)
