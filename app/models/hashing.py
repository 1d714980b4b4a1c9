"""SHA-256 of model files: streamed alongside a download, or of a file on disk.

``StreamHasher`` hashes chunks on its own thread while the download thread goes on
reading the network (``hashlib`` releases the GIL for large buffers), so verification
costs almost nothing after the last byte arrives.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path

READ_SIZE = 4 * 1024 * 1024


class StreamHasher:
    def __init__(self, max_queued: int = 16) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()
        self._result: str | None = None

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def update_from_file(self, path: Path, limit: int) -> None:
        """Hash the first ``limit`` bytes of ``path`` (a partial file being resumed)."""
        left = limit
        with path.open("rb") as fh:
            while left > 0:
                block = fh.read(min(READ_SIZE, left))
                if not block:
                    break
                self.update(block)
                left -= len(block)

    def hexdigest(self) -> str:
        if self._result is None:
            self._queue.put(None)
            self._thread.join()
            self._result = self._hash.hexdigest()
        return self._result

    def close(self) -> None:
        """Stop the thread without a result (the download was abandoned)."""
        if self._result is None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            self._hash.update(chunk)


def sha256_file(
    path: Path,
    on_bytes: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str | None:
    """Hex SHA-256 of a file; ``None`` if ``should_stop`` said so part way."""
    digest = hashlib.sha256()
    buf = bytearray(READ_SIZE)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            if on_bytes is not None:
                on_bytes(n)
            if should_stop is not None and should_stop():
                return None
    return digest.hexdigest()
