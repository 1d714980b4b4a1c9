"""Per-file fit badges and the recommended file for a hub repository."""

from __future__ import annotations

from app.models import fit
from app.models.hub import HubClient
from app.models.repo_view import describe_repo, view_of
from tests.fixtures.hub_server import HUGE_REPO, SMOLLM_FILE, SMOLLM_REPO, HubServer

GB = 1_000_000_000


def test_exact_shape_from_the_remote_header(hub: HubServer) -> None:
    view = describe_repo(HubClient(), SMOLLM_REPO, "main", 4096)
    (row,) = view.rows
    assert row.fit.exact and row.recommended and view.recommended == SMOLLM_FILE
    assert row.fit.kv_cache == 4096 * 30 * 3 * 128 * 2  # SmolLM2's real attention shape
    assert hub.file_gets(SMOLLM_FILE) == ["bytes=0-262143"]  # one small read, not the file


def test_without_a_readable_header_the_shape_is_estimated(hub: HubServer) -> None:
    view = describe_repo(HubClient(), HUGE_REPO, "main", 4096)
    (row,) = view.rows
    assert not row.fit.exact and row.fit.badge == "too_large" and view.recommended is None


def test_estimate_only_makes_no_file_request(hub: HubServer) -> None:
    listing = HubClient().repo_files(SMOLLM_REPO)
    machine = fit.Machine(16 * GB, 8 * GB)
    view = view_of(listing, 4096, machine)
    assert not view.rows[0].fit.exact and view.rows[0].fit.badge == "cpu"
    assert hub.file_gets(SMOLLM_FILE) == []
    assert view.as_json()["files"][0]["fit"]["badge"] == "cpu"
