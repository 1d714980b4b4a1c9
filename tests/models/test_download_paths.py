"""A hostile hub cannot make a download write outside the models folder (issue 8, item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.errors import DownloadError
from app.models import download_state, registry
from app.models.download import download_model, repo_folder
from app.models.download_files import PARTIAL_DIR
from app.models.download_paths import safe_destination, unsafe_reason
from app.models.hub import FilePart, HubClient, HubModelFile, RepoFiles
from tests.cli.conftest import REPO, assert_one_line_error, cli_env
from tests.fixtures.hub_server import SMOLLM_FILE, SMOLLM_REPO, HubFile, HubRepo, HubServer

EVIL_REPO = "lantern-test/Evil-Names-GGUF"
NUL_REPO = "lantern-test/Nul-Name-GGUF"
PAYLOAD = b"GGUF" + bytes(60)
ORIGINAL = b"the user's own file, which must stay as it is\n"

BAD_NAMES = [
    "../../../../x/evil-Q4_K_M.gguf",
    "sub/../../escape-Q4_K_M.gguf",
    "../sibling-Q4_K_M.gguf",
    "nul\x00name-Q4_K_M.gguf",
    "dir\\..\\..\\back-Q4_K_M.gguf",
    "C:/drive-Q4_K_M.gguf",
    "c:drive-relative-Q4_K_M.gguf",
    "empty//part-Q4_K_M.gguf",
    "./dot-Q4_K_M.gguf",
    "line\nbreak-Q4_K_M.gguf",
]


@pytest.fixture
def evil_hub(hub: HubServer, tmp_path: Path) -> Iterator[HubServer]:
    """The local hub with a repository that lists traversal names (absolute one too)."""
    repo = hub.add_repo(HubRepo(EVIL_REPO))
    for name in [*BAD_NAMES, str(tmp_path / "abs" / "evil-Q4_K_M.gguf")]:
        repo.add(HubFile(name, data=PAYLOAD))
    for i in (1, 2):
        repo.add(HubFile(f"../split-Q4_K_M-0000{i}-of-00002.gguf", data=PAYLOAD))
    hub.catch_all = HubFile("any", data=PAYLOAD)  # serves the bytes at whatever URL
    yield hub
    hub.catch_all = None
    del hub.repos[EVIL_REPO]


def _target(models_dir: Path, name: str) -> Path:
    """Where the name would land if it were joined and normalised naively."""
    return Path(os.path.normpath(models_dir / repo_folder(EVIL_REPO) / name))


def _nothing_installed(db: sqlite_utils.Database, models_dir: Path) -> None:
    assert all(m["source_repo"] != EVIL_REPO for m in registry.list_models(db))
    partial = models_dir / PARTIAL_DIR
    assert not partial.exists() or list(partial.glob("*.part")) == []
    assert not (models_dir / repo_folder(EVIL_REPO)).exists()


@pytest.mark.parametrize("name", ["absolute", *BAD_NAMES])
def test_hostile_names_are_refused_before_anything_is_written(
    evil_hub: HubServer,
    db: sqlite_utils.Database,
    models_dir: Path,
    tmp_path: Path,
    name: str,
) -> None:
    if name == "absolute":
        name = str(tmp_path / "abs" / "evil-Q4_K_M.gguf")
    target = _target(models_dir, name) if "\x00" not in name else None
    outside = target is not None and tmp_path in target.parents
    if outside and target is not None and models_dir / repo_folder(EVIL_REPO) in target.parents:
        outside = False  # a name that stays in place but is malformed anyway
    if outside and target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ORIGINAL)  # an existing file at the target stays untouched
    with pytest.raises(DownloadError, match="Refusing to download") as err:
        download_model(db, EVIL_REPO, name)
    message = str(err.value)
    assert "\n" not in message and "\x00" not in message and "nothing was written" in message
    if outside and target is not None:
        assert target.read_bytes() == ORIGINAL
    _nothing_installed(db, models_dir)
    assert [r for r in evil_hub.requests if r[0] == "GET" and "/api/" not in r[1]] == []
    assert download_state.list_downloads(db) == []


def test_split_model_with_traversing_parts_is_refused(
    evil_hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    with pytest.raises(DownloadError, match="Refusing to download"):
        download_model(db, EVIL_REPO, "../split-Q4_K_M-00001-of-00002.gguf")
    assert not (models_dir / "split-Q4_K_M-00001-of-00002.gguf").exists()
    _nothing_installed(db, models_dir)


class _OneBadPart(HubClient):
    """A listing whose split model has a good first part and a traversing second part."""

    def repo_files(self, repo_id: str, revision: str = "main") -> RepoFiles:
        real = super().repo_files(SMOLLM_REPO, revision)
        good = real.find(SMOLLM_FILE).parts[0]
        bad = FilePart("../../../../x/part-00002-of-00002.gguf", 10, good.sha256[::-1])
        model = HubModelFile(repo_id, "m.gguf", (good, bad), "Q4_1")
        return RepoFiles(repo_id, real.commit, (model,))


def test_every_part_is_checked_before_the_first_is_fetched(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(DownloadError, match="part-00002-of-00002"):
        download_model(db, SMOLLM_REPO, "m.gguf", client=_OneBadPart())
    assert hub.file_gets(SMOLLM_FILE) == []
    assert not (models_dir / repo_folder(SMOLLM_REPO)).exists()
    assert not (tmp_path / "x").exists()


def _cli(home: Path, hub: HubServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home)
    env.pop("HF_HUB_OFFLINE")
    env["HF_ENDPOINT"] = hub.url
    return subprocess.run(
        [sys.executable, "-m", "app", "models", "download", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_download_of_a_traversing_name_is_one_line_exit_1(
    evil_hub: HubServer, lantern_home: Path, tmp_path: Path
) -> None:
    result = _cli(lantern_home, evil_hub, EVIL_REPO, "../../../../x/evil-Q4_K_M.gguf")
    assert result.returncode == 1
    assert_one_line_error(result, "Refusing to download", "outside the models folder")
    assert not (tmp_path / "x").exists()


def test_cli_download_of_a_nul_name_is_one_line_exit_1(hub: HubServer, lantern_home: Path) -> None:
    """No file named: the recommended file is the only one, whose name holds a NUL."""
    repo = hub.add_repo(HubRepo(NUL_REPO))
    repo.add(HubFile("nul\x00name-Q4_K_M.gguf", data=PAYLOAD))
    try:
        result = _cli(lantern_home, hub, NUL_REPO)
    finally:
        del hub.repos[NUL_REPO]
    assert result.returncode == 1
    assert_one_line_error(result, "Refusing to download", "control character")


@pytest.mark.parametrize(
    "name",
    ["model-Q4_K_M.gguf", "sub/dir/model-Q4_K_M.gguf", "a..b-Q4_K_M.gguf", "..hidden.gguf"],
)
def test_ordinary_names_stay_allowed(tmp_path: Path, name: str) -> None:
    assert unsafe_reason(name) is None
    dest = safe_destination(tmp_path, "owner--repo", name, "owner/repo")
    assert dest == tmp_path / "owner--repo" / name


def test_a_folder_symlinked_out_of_the_models_folder_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "owner--repo").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (models / "owner--repo" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(DownloadError, match="outside the models folder"):
        safe_destination(models, "owner--repo", "link/model-Q4_K_M.gguf", "owner/repo")
