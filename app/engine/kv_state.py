"""A chat context's KV cache as bytes and as a checked file (llama.cpp sequence state).

``capture`` copies the keys and values of the session's one sequence out of llama.cpp
(``llama_state_seq_get_data``) and ``apply`` puts them back (``llama_state_seq_set_data``).
A ``KvState`` carries the tokens those keys and values belong to and the identity of
what made them: model file, context settings, adapters and llama.cpp build. A state is
only applied where the identity is equal, so a state never reaches another model, a
context of another size or another llama.cpp.

File layout (``write_state`` / ``read_state``)::

    b"LNTKVST1"  u32 header length  header (JSON)  tokens (int32 LE)  payload

The header holds the identity, the token count, a BLAKE2b hash of the tokens (the
"token-prefix hash"), the payload length and a CRC-32 of the payload (a check against
damage: 7 ms per 23 MB here, where BLAKE2b took 28 ms, on the path of a reopened
conversation's first token), and, for a conversation longer than the context, where its
prompt began (``start``: the next turn keeps that start, app.engine.context_fit, even
after a restart). ``read_state`` returns ``None`` with a reason for a file that
is not one, is truncated, fails a check, or was made by something else; the caller
deletes it. Files are written 0600 through a temporary file
and a rename, so a crash leaves the old file or none, never half of one.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import mmap
import os
import queue
import struct
import threading
import zlib
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine.context_fit import FitAnchor
from app.engine.types import ChatMessage
from app.logs import get_logger

log = get_logger("engine")

MAGIC = b"LNTKVST1"
FORMAT = 2  # 2: the payload is checked by CRC-32 (1: BLAKE2b)
SEQ = 0
_LEN = struct.Struct("<I")
_CHUNK = 4 << 20  # bytes read before the checksum thread takes them


@cache
def llama_version() -> str:
    """The llama.cpp build: the binding's version and a hash of its compiled features."""
    info = llama_cpp.llama_print_system_info() or b""
    features = hashlib.blake2b(info, digest_size=6).hexdigest()
    return f"llama-cpp-python {llama_cpp.__version__} ({features})"


def digest(data: bytes | memoryview) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def checksum(data: bytes | memoryview) -> str:
    """CRC-32 of a state's payload, as 8 hex digits."""
    return f"{zlib.crc32(data):08x}"


@dataclass(frozen=True)
class KvState:
    """The KV cache of ``tokens`` (positions 0..n-1) as llama.cpp's sequence state."""

    identity: dict[str, Any]  # model, n_ctx, n_batch, adapters, llama: all must match
    tokens: tuple[int, ...]
    payload: bytes | memoryview  # read-only by convention (``capture`` hands over its buffer)
    start: FitAnchor | None = None  # where the prompt began if the conversation outgrew it

    @property
    def size(self) -> int:
        return len(self.payload) + 4 * len(self.tokens)


def capture(
    ctx: Any, tokens: list[int], identity: dict[str, Any], start: FitAnchor | None = None
) -> KvState | None:
    """The state of sequence 0 of ``ctx`` (which holds ``tokens``); None when empty."""
    if not tokens:
        return None
    size = int(llama_cpp.llama_state_seq_get_size(ctx, SEQ))
    if size <= 0:
        return None
    buf = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, SEQ))
    if written <= 0:
        return None
    # The buffer itself is the payload (no second copy of tens of MB): nothing else
    # holds it, and a KvState never changes it.
    return KvState(dict(identity), tuple(tokens), memoryview(buf).cast("B")[:written], start)


def apply(ctx: Any, memory: Any, state: KvState) -> bool:
    """Replace sequence 0 of ``ctx`` with ``state``; False (and an empty cache) when
    llama.cpp refuses it."""
    llama_cpp.llama_memory_seq_rm(memory, SEQ, 0, -1)
    data = state.payload
    kind = ctypes.c_uint8 * len(data)
    # llama.cpp only reads the bytes: hand it the payload itself where ctypes can point at
    # it (a captured buffer, a file read into a bytearray), else a copy.
    writable = isinstance(data, memoryview) and not data.readonly and data.contiguous
    buf = kind.from_buffer(data) if writable else kind.from_buffer_copy(data)
    if int(llama_cpp.llama_state_seq_set_data(ctx, buf, len(data), SEQ)) > 0:
        return True
    llama_cpp.llama_memory_clear(memory, True)
    return False


def write_state(path: Path, state: KvState) -> int:
    """Write ``state`` to ``path`` (0600, atomically); returns the file's size."""
    tokens = array("i", state.tokens)
    if tokens.itemsize != 4:  # pragma: no cover - every platform we ship has 4-byte ints
        raise OSError("int32 tokens need a 4-byte array type")
    token_bytes = tokens.tobytes() if _little() else _swapped(tokens)
    header = json.dumps(
        {
            "format": FORMAT,
            "identity": state.identity,
            "n_tokens": len(state.tokens),
            "tokens_hash": digest(token_bytes),
            "payload_len": len(state.payload),
            "payload_crc32": checksum(state.payload),
            "start": _start_json(state.start),
        },
        sort_keys=True,
    ).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + _LEN.pack(len(header)) + header)
            f.write(token_bytes)
            f.write(state.payload)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(MAGIC) + _LEN.size + len(header) + len(token_bytes) + len(state.payload)


def read_header(path: Path) -> dict[str, Any] | None:
    """The header of a state file (not checked against anything), or None."""
    try:
        with open(path, "rb") as f:
            return _header(f.read(len(MAGIC) + _LEN.size), f)
    except (OSError, ValueError):
        return None


def read_state(path: Path, identity: dict[str, Any]) -> tuple[KvState | None, str]:
    """The state in ``path`` if it is whole and made by ``identity``; else (None, why)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            try:
                header = _header(f.read(len(MAGIC) + _LEN.size), f)
            except ValueError:  # not JSON, or not UTF-8
                return None, "damaged header"
            if header is None:
                return None, "not a Lantern KV state file"
            try:
                n = int(header["n_tokens"])
                plen = int(header["payload_len"])
            except (ValueError, KeyError, TypeError):
                return None, "damaged header"
            if header.get("format") != FORMAT:
                return None, f"format {header.get('format')!r}"
            if header.get("identity") != identity:
                return None, f"made by {header.get('identity')!r}, not {identity!r}"
            expected = f.tell() + 4 * n + plen
            if size != expected or n < 0 or plen < 0:
                return None, f"truncated or padded ({size:,} bytes, header says {expected:,})"
            token_bytes = f.read(4 * n)
            # Writable, so ``apply`` needs no copy; anonymous memory, so no 63 MB memset
            # first (a 2.9k-token SmolLM2 state; bytearray(n) zero-fills: 31 ms here).
            payload = mmap.mmap(-1, plen) if plen else bytearray()
            got, crc = _read_summing(f, payload)
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    if len(token_bytes) != 4 * n or got != plen:
        return None, "truncated while reading"
    if digest(token_bytes) != header.get("tokens_hash"):
        return None, "tokens damaged (hash mismatch)"
    if f"{crc:08x}" != header.get("payload_crc32"):
        return None, "payload damaged (checksum mismatch)"
    tokens = array("i")
    tokens.frombytes(token_bytes)
    if not _little():  # pragma: no cover
        tokens.byteswap()
    return KvState(identity, tuple(tokens), memoryview(payload), _start(header.get("start"))), ""


def _start_json(start: FitAnchor | None) -> dict[str, Any] | None:
    if start is None:
        return None
    first = start.first
    return {"dropped": start.dropped, "role": first.role, "content": first.content,
            "before": start.before}  # fmt: skip


def _start(value: Any) -> FitAnchor | None:
    """The header's ``start`` (written by ``_start_json``); None when absent or odd."""
    try:
        role, dropped, before = value["role"], int(value["dropped"]), value["before"]
        if role in ("system", "user", "assistant") and dropped > 0 and isinstance(before, str):
            return FitAnchor(dropped, ChatMessage(role, str(value["content"])), before)
    except (TypeError, KeyError, ValueError, OverflowError):
        pass
    return None


def _read_summing(f: Any, buf: bytearray | mmap.mmap) -> tuple[int, int]:
    """Fill ``buf`` from ``f`` a chunk at a time while a helper thread computes the CRC-32
    of what has arrived (reading and zlib both release the GIL), so the check costs little
    beyond the read; (bytes read, CRC-32)."""
    view = memoryview(buf)
    chunks: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
    crc = 0

    def summer() -> None:
        nonlocal crc
        while (chunk := chunks.get()) is not None:
            crc = zlib.crc32(chunk, crc)

    helper = threading.Thread(target=summer, name="kv-state-crc", daemon=True)
    helper.start()
    pos = 0
    try:
        while pos < len(view):
            n = f.readinto(view[pos : pos + _CHUNK])
            if not n:
                break
            chunks.put(view[pos : pos + n])
            pos += n
    finally:
        chunks.put(None)
        helper.join()
    return pos, crc


def _header(head: bytes, f: Any) -> dict[str, Any] | None:
    if len(head) < len(MAGIC) + _LEN.size or head[: len(MAGIC)] != MAGIC:
        return None
    (hlen,) = _LEN.unpack_from(head, len(MAGIC))
    value = json.loads(f.read(hlen))
    return value if isinstance(value, dict) else None


def _little() -> bool:
    import sys

    return sys.byteorder == "little"


def _swapped(tokens: array[int]) -> bytes:  # pragma: no cover - big-endian hosts
    copy = array("i", tokens)
    copy.byteswap()
    return copy.tobytes()
