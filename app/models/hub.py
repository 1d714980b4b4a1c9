"""Hub search and repository file listings, through huggingface_hub.

huggingface_hub reads ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` into module constants when it
is first imported; Lantern reads the environment when the user starts an operation and
passes ``endpoint=`` / ``token=`` explicitly, so a changed setting takes effect without a
restart. Nothing here runs unless the user asked for it (search, list files, download).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.errors import DownloadError
from app.logs import get_logger
from app.models import quant
from app.models.hub_errors import (
    HubAccessError,
    HubNotFoundError,
    HubOfflineError,
    HubServerError,
    HubUnreachableError,
)

log = get_logger("models.hub")

DEFAULT_ENDPOINT = "https://huggingface.co"
SORTS = ("downloads", "likes", "trending_score", "last_modified")
TIMEOUT = 20.0  # seconds for one API answer
TOKEN_HINT = (
    "set HF_TOKEN, or enter a Hugging Face access token in the model manager's token "
    "field (CLI: --token)"
)


def hub_endpoint() -> str:
    """``HF_ENDPOINT`` as it is now (not as it was when huggingface_hub was imported)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def env_token() -> str | None:
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def offline_requested() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class RepoSummary:
    repo_id: str
    downloads: int
    likes: int
    gated: bool
    last_modified: datetime | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilePart:
    filename: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class HubModelFile:
    """One model in a repository: a single GGUF file, or all the parts of a split one."""

    repo_id: str
    name: str  # file name, or ``stem.gguf`` for a split model
    parts: tuple[FilePart, ...]
    quantization: str | None

    @property
    def filename(self) -> str:
        return self.parts[0].filename

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def is_split(self) -> bool:
        return len(self.parts) > 1

    @property
    def complete(self) -> bool:
        split = quant.parse_split(self.parts[0].filename)
        return split is None or len(self.parts) == split.count


@dataclass(frozen=True)
class RepoFiles:
    repo_id: str
    commit: str | None
    files: tuple[HubModelFile, ...]
    gated: bool = False
    license: str | None = None
    parameters: int | None = None
    architecture: str | None = None
    context_length: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def find(self, filename: str) -> HubModelFile:
        """The model a file name (single, any split part, or ``stem.gguf``) belongs to."""
        for f in self.files:
            if filename == f.name or any(filename == p.filename for p in f.parts):
                return f
        names = ", ".join(f.name for f in self.files) or "none"
        raise HubNotFoundError(
            f"{self.repo_id} has no GGUF file named {filename}. Its GGUF files: {names}."
        )


class HubClient:
    """Endpoint and token fixed at construction: build one per user action."""

    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = (endpoint or hub_endpoint()).rstrip("/")
        self.token = token if token is not None else env_token()

    @property
    def auth(self) -> str | bool:
        """What to pass as ``token=``: ours, or False (never a token we were not given)."""
        return self.token or False

    def api(self) -> Any:
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.auth, library_name="lantern")

    def search(self, query: str, sort: str = "downloads", limit: int = 30) -> list[RepoSummary]:
        """GGUF repositories matching ``query``, most downloaded (or liked) first.

        The same request as ``HfApi.list_models(search=, filter="gguf", sort=, limit=)``,
        sent once: ``list_models`` retries a refused connection for ~20 s, too long to
        tell a user with no network that there is none.
        """
        from huggingface_hub.hf_api import ModelInfo
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}")
        api_sort = {"last_modified": "lastModified", "trending_score": "trendingScore"}
        params: dict[str, Any] = {
            "filter": "gguf",
            "sort": api_sort.get(sort, sort),
            "limit": limit,
        }
        if query:
            params["search"] = query
        headers = build_hf_headers(token=self.auth, library_name="lantern")
        with self.calling(f"search the hub for {query!r}"):
            response = get_session().get(
                f"{self.endpoint}/api/models", params=params, headers=headers, timeout=TIMEOUT
            )
            hf_raise_for_status(response)
            items = response.json()
        found = [ModelInfo(**{"siblings": None, **item}) for item in items[:limit]]
        return [
            RepoSummary(
                repo_id=m.id,
                downloads=m.downloads or 0,
                likes=m.likes or 0,
                gated=bool(m.gated),
                last_modified=m.last_modified,
                tags=tuple(m.tags or ()),
            )
            for m in found
        ]

    def repo_files(self, repo_id: str, revision: str = "main") -> RepoFiles:
        """Every GGUF model in a repository, with sizes and LFS SHA-256, splits grouped."""
        with self.calling(f"list the files of {repo_id}", repo_id=repo_id):
            info = self.api().model_info(
                repo_id, revision=revision, files_metadata=True, timeout=TIMEOUT
            )
        parts = [
            FilePart(s.rfilename, int(s.size or 0), s.lfs.sha256 if s.lfs else None)
            for s in info.siblings or []
            if quant.is_gguf(s.rfilename)
        ]
        gguf = info.gguf or {}
        card = info.card_data
        license_ = getattr(card, "license", None) if card is not None else None
        return RepoFiles(
            repo_id=repo_id,
            commit=info.sha,
            files=tuple(group_files(repo_id, parts)),
            gated=bool(info.gated),
            license=license_ if isinstance(license_, str) else None,
            parameters=_int(gguf.get("total")),
            architecture=gguf.get("architecture"),
            context_length=_int(gguf.get("context_length")),
        )

    def fetch_prefix(self, repo_id: str, filename: str, revision: str, size: int) -> bytes:
        """The first ``size`` bytes of a file (a Range request): enough for a GGUF header."""
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        headers = build_hf_headers(token=self.auth, library_name="lantern")
        headers["Range"] = f"bytes=0-{size - 1}"
        url = self.file_url(repo_id, filename, revision)
        with self.calling(f"read the header of {filename}", repo_id=repo_id):
            response = get_session().get(
                url, headers=headers, timeout=TIMEOUT, follow_redirects=True
            )
            hf_raise_for_status(response)
            return bytes(response.content[:size])

    def file_url(self, repo_id: str, filename: str, revision: str) -> str:
        from huggingface_hub import hf_hub_url

        return str(hf_hub_url(repo_id, filename, revision=revision, endpoint=self.endpoint))

    @contextmanager
    def calling(self, what: str, repo_id: str | None = None) -> Iterator[None]:
        """Run a hub call, turning every failure into a ``DownloadError`` for the user."""
        prepare_offline_flag()
        try:
            yield
        except DownloadError:
            raise
        except Exception as exc:
            raise translate_error(exc, what, self.endpoint, repo_id) from exc


def group_files(repo_id: str, parts: list[FilePart]) -> list[HubModelFile]:
    """One ``HubModelFile`` per model: split parts (``-0000i-of-0000n``) become one entry."""
    singles: list[HubModelFile] = []
    splits: dict[tuple[str, str, int], list[tuple[int, FilePart]]] = {}
    for part in parts:
        split = quant.parse_split(part.filename)
        if split is None:
            singles.append(
                HubModelFile(repo_id, part.filename, (part,), quant.quant_from_name(part.filename))
            )
            continue
        folder = part.filename.rsplit("/", 1)[0] if "/" in part.filename else ""
        splits.setdefault((folder, split.stem, split.count), []).append((split.index, part))
    for (folder, stem, _count), members in splits.items():
        members.sort(key=lambda m: m[0])
        name = f"{folder}/{stem}.gguf" if folder else f"{stem}.gguf"
        ordered = tuple(p for _, p in members)
        singles.append(HubModelFile(repo_id, name, ordered, quant.quant_from_name(stem)))
    singles.sort(key=lambda f: (f.size, f.name))
    return singles


def prepare_offline_flag() -> None:
    """Honour ``HF_HUB_OFFLINE`` as set now, and refuse to go online when it is set."""
    from huggingface_hub import constants

    offline = offline_requested()
    constants.HF_HUB_OFFLINE = offline  # huggingface_hub froze it at import time
    if offline:
        raise HubOfflineError(
            "Offline mode is on (HF_HUB_OFFLINE is set), so Lantern will not contact the "
            "model hub. Unset HF_HUB_OFFLINE to search or download models."
        )


def translate_error(
    exc: BaseException, what: str, endpoint: str, repo_id: str | None = None
) -> DownloadError:
    """A user-facing ``DownloadError`` for any failure of a hub call."""
    import httpx2
    from huggingface_hub import errors as hf

    repo = repo_id or "the repository"
    log.warning("could not %s: %s: %s", what, type(exc).__name__, exc)
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return HubOfflineError("Offline mode is on (HF_HUB_OFFLINE): unset it to use the hub.")
    if isinstance(exc, hf.GatedRepoError):
        return HubAccessError(
            f"{repo} is gated: accept its terms on its hub page, then {TOKEN_HINT}."
            + (" The token given has no access to it." if _status(exc) == 403 else "")
        )
    if isinstance(exc, hf.RepositoryNotFoundError):
        return HubAccessError(
            f"{repo} was not found on {endpoint}. Check the name; if it is private, {TOKEN_HINT}."
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return HubNotFoundError(f"{repo} has no such revision ({exc.__class__.__name__}).")
    if isinstance(exc, hf.RemoteEntryNotFoundError):
        return HubNotFoundError(f"That file does not exist in {repo}.")
    if isinstance(exc, hf.HfHubHTTPError):
        status = _status(exc)
        if status in (401, 403):
            return HubAccessError(f"The hub refused access to {repo} ({status}): {TOKEN_HINT}.")
        if status is not None and (status >= 500 or status in (408, 429)):
            return HubServerError(
                f"The model hub at {endpoint} is not answering properly (HTTP {status}). "
                "Try again in a few minutes."
            )
        return DownloadError(f"Could not {what}: the hub answered HTTP {status}.")
    if isinstance(exc, httpx2.TransportError | OSError):
        return HubUnreachableError(
            f"Cannot reach the model hub at {endpoint} to {what} ({_reason(exc)}). Check the "
            "network connection; installed models keep working offline."
        )
    return DownloadError(f"Could not {what}: {exc}")


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _reason(exc: BaseException) -> str:
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx2.ConnectError):
        text = str(exc).lower()
        if "name" in text and ("resolution" in text or "known" in text):
            return "no DNS: are you offline?"
        return "connection refused or no network"
    return type(exc).__name__


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
