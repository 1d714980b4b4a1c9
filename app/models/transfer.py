"""Fetch one file from the hub into a partial file: Range resume, retries, streamed SHA-256.

huggingface_hub (2.x) resolves the file (HEAD on ``/resolve``: size, ETag, redirects to
the CDN, typed errors for gated / missing files) and provides the HTTP session; its own
``hf_hub_download`` deletes partial files on failure, so Lantern streams the body itself
and keeps ``<sha256>.part`` on disk, resuming with ``Range: bytes=N-`` after a drop, a
pause, or a restart of the app, without fetching again what is already there.

Every download ends: a hub that averages less than ``RetryPolicy.min_speed`` over
``speed_window`` seconds stops it with ``DownloadTooSlowError`` (``download_speed``), and a
hub that answers then breaks off the body is reported as that (``HubDroppedError``: how
many bytes it sent), not as a network problem. Either way the part on disk is kept.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from app.errors import DownloadError
from app.logs import get_logger
from app.models.download_files import open_private, private_dir
from app.models.download_speed import MIN_SPEED, SPEED_WINDOW, SpeedGuard
from app.models.hashing import StreamHasher
from app.models.hub import FilePart, HubClient, prepare_offline_flag, translate_error
from app.models.hub_errors import HubDroppedError
from app.models.progress import DownloadControl, Interrupted, ProgressMeter, format_bytes

log = get_logger("models.download")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FLUSH_BYTES = 1024 * 1024
FLUSH_SECONDS = 0.2  # a slow connection still shows progress and keeps its bytes


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6  # consecutive failures without a byte of progress
    base_delay: float = 0.5  # seconds; doubles each time
    max_delay: float = 16.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # ends a silent connection (then retried)
    min_speed: float = MIN_SPEED  # bytes/s averaged over speed_window; 0: no minimum
    speed_window: float = SPEED_WINDOW  # seconds (download_speed: ends a trickling server)

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


class _Retryable(Exception):
    """A transient failure: dropped connection, timeout, 5xx, short body."""

    def __init__(self, message: str, connect: bool = False, received: int | None = None) -> None:
        super().__init__(message)
        self.connect = connect  # never reached the server (no network?)
        self.received = received  # body bytes of this GET before it broke (None: no body)


class _RangeIgnored(Exception):
    """The server answered 200 to a Range request: the partial file was emptied."""


def fetch_part(
    client: HubClient,
    repo_id: str,
    revision: str,
    part: FilePart,
    partial: Path,
    meter: ProgressMeter,
    control: DownloadControl,
    policy: RetryPolicy = RetryPolicy(),
) -> tuple[str, int]:
    """Bring ``partial`` to the whole file; returns (sha256 hex, bytes fetched now).

    Raises ``Interrupted`` on pause/cancel (the partial file stays), or a
    ``DownloadError`` once retries are exhausted or the hub stays slower than
    ``policy.min_speed`` (the partial file stays too).
    """
    private_dir(partial.parent)
    have = _size(partial)
    if have > part.size:  # not this file after all: start over
        partial.unlink()
        have = 0
    hasher = StreamHasher()
    guard = SpeedGuard(part.filename, policy.min_speed, policy.speed_window)
    fetched = 0
    try:
        if have:
            hasher.update_from_file(partial, have)
        meter.set_done(meter.done + have)
        failures = 0
        reached_server = False
        while have < part.size:
            if control.requested:
                raise Interrupted(control.requested)
            try:
                _stream_once(
                    client,
                    repo_id,
                    revision,
                    part,
                    partial,
                    have,
                    hasher,
                    meter,
                    control,
                    policy,
                    guard,
                )
                reached_server = True
            except _RangeIgnored:
                reached_server = True
                hasher.close()
                hasher = StreamHasher()
                meter.set_done(meter.done - have)
                have = 0
                continue
            except _Retryable as exc:
                now = _size(partial)
                progressed = now > have
                fetched += now - have
                have = now
                reached_server = reached_server or progressed or not exc.connect
                failures = 1 if progressed else failures + 1
                if not reached_server or failures > policy.max_retries:
                    raise _give_up(exc, client, repo_id, part, have) from exc
                guard.check()
                delay = policy.delay(failures)
                log.info("retrying %s in %.1fs: %s", part.filename, delay, exc)
                meter.set_phase("retrying", f"{exc}; retrying in {delay:.0f} s")
                if control.wait(delay):
                    raise Interrupted(control.requested or "pause") from None
                continue
            now = _size(partial)
            fetched += now - have
            have = now
        return hasher.hexdigest(), fetched
    finally:
        hasher.close()


def _stream_once(
    client: HubClient,
    repo_id: str,
    revision: str,
    part: FilePart,
    partial: Path,
    have: int,
    hasher: StreamHasher,
    meter: ProgressMeter,
    control: DownloadControl,
    policy: RetryPolicy,
    guard: SpeedGuard,
) -> None:
    """One HEAD + GET from byte ``have`` to the end (or until something breaks)."""
    import httpx2
    from huggingface_hub import get_hf_file_metadata
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    prepare_offline_flag()
    url = client.file_url(repo_id, part.filename, revision)
    try:
        meta = get_hf_file_metadata(
            url, token=client.auth, endpoint=client.endpoint, timeout=policy.connect_timeout
        )
    except Exception as exc:
        _raise_classified(exc, client, repo_id, part.filename)
    _check_same_file(meta, part)
    headers: dict[str, Any] = build_hf_headers(token=client.auth, library_name="lantern")
    if _origin(meta.location) != _origin(url):
        headers.pop("authorization", None)  # a signed CDN URL: the token stays on the hub
    if have:
        headers["Range"] = f"bytes={have}-"
    timeout = httpx2.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    written = 0
    body = False  # the GET answered and its body started: a break now is the server's
    try:
        with get_session().stream(
            "GET", meta.location, headers=headers, timeout=timeout, follow_redirects=True
        ) as response:
            if response.status_code == 416 and have == part.size:
                return
            hf_raise_for_status(response)
            if have and response.status_code == 200:
                log.warning("server ignored Range for %s; starting it over", part.filename)
                partial.write_bytes(b"")
                raise _RangeIgnored()
            body = True
            with open_private(partial) as fh:
                sink = _Sink(fh, partial, hasher, meter)
                try:
                    for chunk in response.iter_bytes():  # as received: a drop loses nothing
                        if have + sink.total + len(chunk) > part.size:
                            raise DownloadError(
                                f"The hub sent more data than {part.filename}'s published size."
                            )
                        sink.add(chunk)
                        guard.add(len(chunk))
                        if control.requested:
                            sink.flush()
                            raise Interrupted(control.requested)
                finally:
                    sink.flush()  # what arrived before a drop is kept on disk
                    written = sink.total
    except (Interrupted, DownloadError, _RangeIgnored):
        raise
    except Exception as exc:
        try:
            _raise_classified(exc, client, repo_id, part.filename)
        except _Retryable as retry:
            retry.received = written if body else None
            raise
    if have + written < part.size:
        raise _Retryable("the connection closed early", received=written)


class _Sink:
    """Collects network reads (~64 KB) into ``FLUSH_BYTES`` blocks (or what came in
    ``FLUSH_SECONDS``): one write, one hash hand-off and one progress update per block
    instead of per read."""

    def __init__(self, fh: Any, partial: Path, hasher: StreamHasher, meter: ProgressMeter) -> None:
        self.fh = fh
        self.partial = partial
        self.hasher = hasher
        self.meter = meter
        self.buffer = bytearray()
        self.total = 0  # bytes received (written once flushed)
        self.flushed_at = time.monotonic()

    def add(self, chunk: bytes) -> None:
        self.buffer += chunk
        self.total += len(chunk)
        if len(self.buffer) >= FLUSH_BYTES or time.monotonic() - self.flushed_at > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        block = bytes(self.buffer)
        self.buffer.clear()
        self.flushed_at = time.monotonic()
        try:
            self.fh.write(block)
        except OSError as exc:
            raise DownloadError(
                f"Cannot write {self.partial}: {exc.strerror or exc}. Free some disk space, "
                "then run the download again to resume."
            ) from exc
        self.hasher.update(block)
        self.meter.advance(len(block))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _raise_classified(exc: Exception, client: HubClient, repo_id: str, filename: str) -> NoReturn:
    """Transient failures become ``_Retryable``; the rest a user-facing DownloadError."""
    import httpx2
    from huggingface_hub import errors as hf

    if isinstance(exc, httpx2.TransportError):
        connect = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
        raise _Retryable(_describe(exc), connect=connect) from exc
    if isinstance(exc, hf.HfHubHTTPError) and not isinstance(
        exc, hf.RepositoryNotFoundError | hf.RevisionNotFoundError | hf.RemoteEntryNotFoundError
    ):
        status = getattr(exc.response, "status_code", None)
        if status is not None and (status >= 500 or status in (408, 429)):
            raise _Retryable(f"the hub answered HTTP {status}") from exc
    raise translate_error(exc, f"download {filename}", client.endpoint, repo_id) from exc


def _give_up(
    exc: _Retryable, client: HubClient, repo_id: str, part: FilePart, have: int
) -> DownloadError:
    cause = exc.__cause__
    if exc.received is not None:  # it answered, then the body broke off
        import httpx2

        what = "closed the connection"
        if isinstance(cause, httpx2.TimeoutException):
            what = "stopped sending (the read timed out)"
        error: DownloadError = HubDroppedError(
            f"The hub at {client.endpoint} {what} after sending {exc.received:,} bytes of "
            f"{part.filename} ({format_bytes(have)} of {format_bytes(part.size)} are "
            "downloaded)."
        )
    elif cause is not None:
        error = translate_error(cause, "download the file", client.endpoint, repo_id)
    else:
        error = DownloadError(f"The download kept failing ({exc}).")
    return type(error)(
        f"{error} The part already downloaded is kept: run the download again to resume."
    )


def _check_same_file(meta: Any, part: FilePart) -> None:
    etag = (meta.etag or "").lower()
    if part.sha256 and _SHA256.match(etag) and etag != part.sha256:
        raise DownloadError(
            f"{part.filename} changed on the hub while Lantern was downloading it. "
            "Start the download again to get the new version."
        )
    if meta.size is not None and meta.size != part.size:
        raise DownloadError(
            f"{part.filename} is {meta.size} bytes on the hub but was listed as {part.size}: "
            "it changed meanwhile. Start the download again."
        )


def _describe(exc: Exception) -> str:
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return "the connection timed out"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return "the connection dropped"
    if isinstance(exc, httpx2.ConnectError):
        return "cannot connect"
    return f"network error ({type(exc).__name__})"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def is_sha256(value: str | None) -> bool:
    return bool(value and _SHA256.match(value))
