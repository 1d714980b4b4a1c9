"""Download and hub errors, each with a sentence the user can act on.

All are ``DownloadError`` subclasses (``app.errors``), so a caller that only knows
``LanternError`` still shows them right; the window uses the subclass to decide what to
offer (a token field for ``HubAccessError``, a Retry button for ``HubUnreachableError``).
"""

from __future__ import annotations

from app.errors import DownloadError


class HubUnreachableError(DownloadError):
    """No network, DNS failure, refused connection or timeout."""


class HubOfflineError(DownloadError):
    """Offline mode (``HF_HUB_OFFLINE``) is on: Lantern will not touch the network."""


class HubAccessError(DownloadError):
    """Gated or private repository, or a token without access."""


class HubNotFoundError(DownloadError):
    """Repository, revision or file that does not exist on the hub."""


class HubServerError(DownloadError):
    """The hub kept answering 5xx / 429 after every retry."""


class DiskSpaceError(DownloadError):
    """Not enough free space for the download."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match the SHA-256 the hub publishes."""


class DownloadInUseError(DownloadError):
    """Another Lantern process is downloading the same file right now."""


class HubDroppedError(HubUnreachableError):
    """The hub answered, then closed (or stalled) the connection part way through a file."""


class DownloadTooSlowError(DownloadError):
    """The hub sent less than the minimum throughput (``download_speed``) for too long."""
