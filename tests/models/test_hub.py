"""Hub search and file listings against the local hub server (real HTTP)."""

from __future__ import annotations

import socket

import pytest

from app.models.hub import FilePart, HubClient, group_files, hub_endpoint
from app.models.hub_errors import (
    HubAccessError,
    HubNotFoundError,
    HubOfflineError,
    HubServerError,
    HubUnreachableError,
)
from tests.fixtures.gguf_split import split_names
from tests.fixtures.hub_server import (
    GATED_REPO,
    PRIVATE_REPO,
    SMOLLM_FILE,
    SMOLLM_REPO,
    SPLIT_REPO,
    HubServer,
)


def test_endpoint_is_read_when_called(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hub_endpoint() == hub.url
    monkeypatch.setenv("HF_ENDPOINT", "http://example.invalid/")
    assert hub_endpoint() == "http://example.invalid"
    assert HubClient().endpoint == "http://example.invalid"


def test_search_finds_gguf_repos_sorted(hub: HubServer) -> None:
    found = HubClient().search("smollm2", sort="downloads")
    assert [r.repo_id for r in found] == [SMOLLM_REPO, SPLIT_REPO]
    by_likes = HubClient().search("smollm2", sort="likes")
    assert [r.repo_id for r in by_likes] == [SPLIT_REPO, SMOLLM_REPO]
    assert found[0].downloads == 5000 and found[0].likes == 40
    get = [r for m, p, r in hub.requests if p == "/api/models"]
    assert get, "search must go through the hub's /api/models"


def test_search_hides_private_and_marks_gated(hub: HubServer) -> None:
    found = {r.repo_id: r for r in HubClient().search("lantern-test")}
    assert PRIVATE_REPO not in found
    assert found[GATED_REPO].gated is True
    assert found[SMOLLM_REPO].gated is False


def test_repo_files_lists_gguf_with_lfs_hash_and_size(hub: HubServer) -> None:
    listing = HubClient().repo_files(SMOLLM_REPO)
    assert [f.name for f in listing.files] == [SMOLLM_FILE]  # README.md is not a model
    model = listing.files[0]
    served = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE]
    assert model.size == served.size == 98362432
    assert model.parts[0].sha256 == served.sha256
    assert model.quantization == "Q4_1"
    assert listing.commit == hub.repos[SMOLLM_REPO].commit
    assert listing.architecture == "llama" and listing.context_length == 8192


def test_split_files_are_one_model(hub: HubServer) -> None:
    listing = HubClient().repo_files(SPLIT_REPO)
    assert len(listing.files) == 1
    model = listing.files[0]
    assert model.is_split and model.complete
    assert [p.filename for p in model.parts] == split_names()
    assert model.name == "SmolLM2-135M-Instruct-Q4_1.gguf"
    assert model.size == sum(f.size for f in hub.repos[SPLIT_REPO].files.values())
    assert listing.find(split_names()[1]) is model  # any part finds the whole model


def test_group_files_flags_missing_parts() -> None:
    parts = [FilePart("m-00001-of-00003.gguf", 10, "a" * 64), FilePart("x-Q8_0.gguf", 5, None)]
    models = {m.name: m for m in group_files("r", parts)}
    assert not models["m.gguf"].complete
    assert models["x-Q8_0.gguf"].complete and models["x-Q8_0.gguf"].quantization == "Q8_0"


def test_unknown_file_names_the_ones_there(hub: HubServer) -> None:
    listing = HubClient().repo_files(SMOLLM_REPO)
    with pytest.raises(HubNotFoundError, match=SMOLLM_FILE):
        listing.find("nope.gguf")


def test_gated_repo_says_how_to_get_access(hub: HubServer) -> None:
    with pytest.raises(HubAccessError) as err:
        HubClient().repo_files(GATED_REPO)
    assert "gated" in str(err.value) and "HF_TOKEN" in str(err.value)
    with pytest.raises(HubAccessError, match="gated"):
        HubClient(token="hf_unknown").repo_files(GATED_REPO)  # 401: not a valid token
    hub.faults.valid_tokens.add("hf_someone_else")  # 403: a real user without the grant
    with pytest.raises(HubAccessError, match="no access"):
        HubClient(token="hf_someone_else").repo_files(GATED_REPO)
    assert HubClient(token="hf_valid_token").repo_files(GATED_REPO).files


def test_token_comes_from_environment_at_call_time(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_valid_token")
    assert HubClient().repo_files(GATED_REPO).files
    auth = [r for r in hub.requests if r[1].startswith(f"/api/models/{GATED_REPO}")]
    assert auth


def test_private_repo_mentions_token(hub: HubServer) -> None:
    with pytest.raises(HubAccessError, match="private"):
        HubClient().repo_files(PRIVATE_REPO)


def test_no_network_is_said_plainly(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubUnreachableError, match="Cannot reach the model hub"):
        HubClient().search("smol")


def test_offline_mode_refuses_before_any_request(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubOfflineError, match="HF_HUB_OFFLINE"):
        HubClient().search("smol")
    assert hub.requests == []


def test_server_errors_are_reported_as_such(hub: HubServer) -> None:
    hub.faults.api_status_times = 1
    with pytest.raises(HubServerError, match="503"):
        HubClient().repo_files(SMOLLM_REPO)
    assert HubClient().repo_files(SMOLLM_REPO).files  # fault consumed: works again
