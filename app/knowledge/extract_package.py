"""Zip packages of XML (DOCX, EPUB, PPTX) read without trusting them.

- The zip directory is checked before anything is unpacked (a "zip bomb" is refused).
  Python's zipfile never returns more than a member's declared size, so the check holds.
- Members are read in chunks that are charged to the ``Budget`` (unpacked XML bytes,
  time, the cancel flag), so a part that unpacks to a huge size stops early.
- Small index parts (relationships, manifests, styles) are parsed into trees with
  defusedxml: any entity declaration or external reference is refused, never expanded.
- Big parts (a DOCX body, a slide) are streamed through lxml's parser into a target
  object, without building a tree; a DOCTYPE stops the parse (Office Open XML forbids
  DTDs), entities are not resolved, the network is off and ``huge_tree`` stays off.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree
from lxml import etree

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget, MiB

CHUNK = 64 * 1024
MAX_TREE_PART_BYTES = 16 * MiB  # a part parsed into a tree (manifest, styles, rels)
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def entities_refused(what: str, name: str) -> DocumentError:
    return DocumentError(
        f"this {what} declares XML entities or a DTD in {name}, which a genuine {what} "
        "does not (it may be a 'billion laughs' attack); it was not read"
    )


def open_package(data: bytes, max_unpacked_bytes: int, what: str) -> zipfile.ZipFile:
    """The zip archive, once its directory shows it unpacks within the limit."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(f"this {what} is damaged (not a valid zip archive)") from exc
    total = sum(info.file_size for info in zf.infolist())
    if total > max_unpacked_bytes:
        zf.close()
        raise DocumentError(
            f"this {what} unpacks to {total / MiB:.0f} MB, over the "
            f"{max_unpacked_bytes / MiB:.0f} MB limit (it looks like a zip bomb); "
            "it was not opened"
        )
    return zf


def _chunks(zf: zipfile.ZipFile, name: str, what: str, budget: Budget) -> Iterator[bytes]:
    """The member's unpacked bytes, chunk by chunk, each charged to the budget."""
    try:
        with zf.open(name) as member:
            while chunk := member.read(CHUNK):
                budget.spend_xml_bytes(len(chunk))
                yield chunk
    except KeyError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is missing)") from exc
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError) as exc:
        # RuntimeError: an encrypted member; the others: a corrupt or truncated one
        raise DocumentError(f"this {what} is damaged ({name} cannot be unpacked)") from exc


def read_part(zf: zipfile.ZipFile, name: str, what: str, budget: Budget) -> bytes:
    return b"".join(_chunks(zf, name, what, budget))


def parse_part(zf: zipfile.ZipFile, name: str, what: str, budget: Budget) -> ElementTree.Element:
    """A small part as an ElementTree tree; entity declarations are refused."""
    try:
        size = zf.getinfo(name).file_size
    except KeyError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is missing)") from exc
    if size > MAX_TREE_PART_BYTES:
        raise DocumentError(
            f"this {what} is damaged or hostile ({name} is {size / MiB:.0f} MB, "
            f"over {MAX_TREE_PART_BYTES / MiB:.0f} MB for a part of its kind)"
        )
    data = read_part(zf, name, what, budget)
    try:
        root: ElementTree.Element = defusedxml.ElementTree.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise entities_refused(what, name) from exc
    except ElementTree.ParseError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is not valid XML)") from exc
    return root


class _DoctypeFound(Exception):
    pass


def _doctype_found(*_: object) -> None:
    raise _DoctypeFound


class _RootReached(Exception):
    pass


def _stop(*_: object) -> None:
    raise _RootReached


def refuse_entities(data: bytes, what: str, name: str) -> None:
    """Refuse an XML (or XHTML) part whose prolog declares entities; the parse stops at
    the root element, and nothing is ever expanded."""
    parser = expat.ParserCreate()
    parser.StartElementHandler = _stop
    parser.EntityDeclHandler = parser.UnparsedEntityDeclHandler = _doctype_found
    try:
        parser.Parse(data, True)
    except _DoctypeFound as exc:
        raise entities_refused(what, name) from exc
    except (_RootReached, expat.ExpatError):
        return


class StreamTarget:
    """Base of the lxml parser targets: keeps the open tags and spends the budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.stack: list[str] = []

    def start(self, tag: str, attrib: Any) -> None:
        self.budget.spend_element()
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(tag)
        self.on_start(tag, attrib, parent)

    def end(self, tag: str) -> None:
        self.stack.pop()
        self.on_end(tag, self.stack[-1] if self.stack else "")

    def data(self, text: str) -> None:
        self.on_data(text)

    def doctype(self, *_: object) -> None:
        raise _DoctypeFound

    def close(self) -> None:
        return None

    def on_start(self, tag: str, attrib: Any, parent: str) -> None:
        """An element opens inside ``parent`` (its tag, "" at the root)."""

    def on_end(self, tag: str, parent: str) -> None:
        """An element closes; ``parent`` is the tag it sits in."""

    def on_data(self, text: str) -> None:
        """Character data inside ``self.stack[-1]``."""


def stream_part(
    zf: zipfile.ZipFile, name: str, what: str, target: StreamTarget, budget: Budget
) -> None:
    """Feed one part through lxml into ``target``; no tree is built."""
    parser = etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for chunk in _chunks(zf, name, what, budget):
            parser.feed(chunk)
        parser.close()
    except _DoctypeFound as exc:
        raise entities_refused(what, name) from exc
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is not valid XML)") from exc


def relationships(
    zf: zipfile.ZipFile, source: str, what: str, budget: Budget
) -> list[tuple[str, str, str]]:
    """(type, path in the zip, id) of each internal relationship of ``source`` ("" = the
    package itself)."""
    folder, base = posixpath.split(source)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_name not in zf.namelist():
        return []  # a part need not have relationships
    rels = parse_part(zf, rels_name, what, budget)
    found = []
    for rel in rels.iter(f"{_REL}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found.append((rel.get("Type", ""), posixpath.normpath(path), rel.get("Id", "")))
    return found
