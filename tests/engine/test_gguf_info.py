from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.engine.gguf_info import inspect_gguf, parse_size_label
from app.errors import ModelFileError
from tests.engine.gguf_files import write_tiny_gguf
from tests.fixtures.unprivileged import as_nobody, traversable_folder


def test_smollm2_metadata(smollm2_path: Path) -> None:
    info = inspect_gguf(smollm2_path)
    assert info.architecture == "llama"
    assert info.kind == "chat"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.embedding_length == 576
    assert info.has_chat_template and "<|im_start|>" in (info.chat_template or "")
    assert info.parameters is not None and 130e6 < info.parameters < 140e6
    assert info.size_bytes == smollm2_path.stat().st_size
    assert "135M" in info.name


def test_gemma_has_no_chat_template(gemma_path: Path) -> None:
    info = inspect_gguf(gemma_path)
    assert info.architecture == "gemma3"
    assert info.kind == "chat"
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.chat_template is None and not info.has_chat_template
    assert info.name == "Gemma 3 270m"
    assert info.parameters is not None and 260e6 < info.parameters < 280e6


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        inspect_gguf(tmp_path / "nope.gguf")


def test_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not a file"):
        inspect_gguf(tmp_path)


def test_random_bytes_named_gguf(tmp_path: Path) -> None:
    path = tmp_path / "random.gguf"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ModelFileError, match="not a valid GGUF"):
        inspect_gguf(path)


@pytest.mark.parametrize("size", [0, 3, 10])
def test_tiny_or_empty_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00\x00\x00"[:size])
    with pytest.raises(ModelFileError, match=r"incomplete|not a valid"):
        inspect_gguf(path)


def _truncated_copy(src: Path, dst: Path, keep: int) -> Path:
    with src.open("rb") as f, dst.open("wb") as out:
        out.write(f.read(keep))
    return dst


def test_truncated_in_tensor_data(smollm2_path: Path, tmp_path: Path) -> None:
    size = smollm2_path.stat().st_size
    path = _truncated_copy(smollm2_path, tmp_path / "cut.gguf", size - 1000)
    with pytest.raises(ModelFileError, match="incomplete"):
        inspect_gguf(path)


def test_truncated_in_header(smollm2_path: Path, tmp_path: Path) -> None:
    path = _truncated_copy(smollm2_path, tmp_path / "cut.gguf", 100_000)
    with pytest.raises(ModelFileError, match="incomplete"):
        inspect_gguf(path)


def test_complete_copy_is_fine(smollm2_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.gguf"
    shutil.copyfile(smollm2_path, path)
    assert inspect_gguf(path).kind == "chat"


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_unreadable_file(smollm2_path: Path) -> None:
    """A mode-000 model file, read as ``nobody`` (root reads anything; see tests/fixtures)."""
    with traversable_folder() as folder:
        path = folder / "locked.gguf"
        shutil.copyfile(smollm2_path, path)
        path.chmod(0)

        def inspect() -> str:
            return inspect_gguf(path).name

        outcome = as_nobody(inspect)
    assert outcome.startswith("ModelFileError: ")
    assert "permission" in outcome


@pytest.mark.parametrize("arch", ["bert", "nomic-bert", "jina-bert-v2"])
def test_encoder_is_embedding_model(tmp_path: Path, arch: str) -> None:
    info = inspect_gguf(write_tiny_gguf(tmp_path / "embed.gguf", arch))
    assert info.kind == "embedding"
    assert info.architecture == arch
    assert info.parameters == 8 * 16 + 16
    assert info.quantization == "F32"
    assert info.context_length == 512


def test_adapter_kind(tmp_path: Path) -> None:
    info = inspect_gguf(write_tiny_gguf(tmp_path / "lora.gguf", "llama", general_type="adapter"))
    assert info.kind == "adapter"


def test_name_falls_back_to_file_stem(tmp_path: Path) -> None:
    info = inspect_gguf(write_tiny_gguf(tmp_path / "my-model.gguf", "llama", name=None))
    assert info.name == "my-model"
    assert info.kind == "chat"
    assert info.chat_template is None


def test_tiny_file_truncated_by_one_byte(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "embed.gguf")
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(ModelFileError, match="incomplete"):
        inspect_gguf(path)


@pytest.mark.parametrize(
    ("label", "expected"),
    [("135M", 135_000_000), ("1.5B", 1_500_000_000), ("8x7B", 56_000_000_000), ("x", None)],
)
def test_parse_size_label(label: str, expected: int | None) -> None:
    assert parse_size_label(label) == expected


# -- split models ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def split_parts() -> list[Path]:
    from tests.fixtures.gguf_split import smollm2_split_paths

    return smollm2_split_paths()


def _copy_parts(parts: list[Path], folder: Path, keep: tuple[int, ...] = (0, 1, 2)) -> list[Path]:
    copies = []
    for i in keep:
        copies.append(folder / parts[i].name)
        shutil.copyfile(parts[i], copies[-1])
    return copies


def test_split_model_is_described_from_all_parts(
    split_parts: list[Path], smollm2_path: Path
) -> None:
    whole = inspect_gguf(smollm2_path)
    info = inspect_gguf(split_parts[0])
    assert info.size_bytes == sum(p.stat().st_size for p in split_parts)
    assert info.parameters == whole.parameters  # the tensors of all three parts
    assert (info.architecture, info.kind, info.quantization) == ("llama", "chat", "Q4_1")
    assert info.chat_template == whole.chat_template
    assert info.context_length == whole.context_length


def test_split_model_with_a_missing_part(split_parts: list[Path], tmp_path: Path) -> None:
    first = _copy_parts(split_parts, tmp_path, keep=(0, 2))[0]
    with pytest.raises(ModelFileError, match=r"part 2 \(.*-00002-of-00003\.gguf\) is missing"):
        inspect_gguf(first)


def test_split_model_with_a_truncated_later_part(split_parts: list[Path], tmp_path: Path) -> None:
    copies = _copy_parts(split_parts, tmp_path)
    data = copies[2].read_bytes()
    copies[2].write_bytes(data[: len(data) - 10])
    with pytest.raises(ModelFileError, match=r"00003-of-00003\.gguf is incomplete"):
        inspect_gguf(copies[0])


def test_split_model_opened_at_a_later_part(split_parts: list[Path]) -> None:
    with pytest.raises(ModelFileError, match=r"is part 2 of 3 .* choose its first part"):
        inspect_gguf(split_parts[1])


def test_split_first_part_renamed(split_parts: list[Path], tmp_path: Path) -> None:
    renamed = tmp_path / "smol.gguf"
    shutil.copyfile(split_parts[0], renamed)
    with pytest.raises(ModelFileError, match=r"name does not end in -00001-of-00003\.gguf"):
        inspect_gguf(renamed)


def test_split_parts_swapped(split_parts: list[Path], tmp_path: Path) -> None:
    copies = _copy_parts(split_parts, tmp_path)
    shutil.copyfile(split_parts[2], copies[1])
    with pytest.raises(ModelFileError, match="is not part 2 of 3"):
        inspect_gguf(copies[0])


# -- the per-file cache ----------------------------------------------------------------


def test_unchanged_file_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.engine import gguf_info

    path = write_tiny_gguf(tmp_path / "embed.gguf")
    first = inspect_gguf(path)
    monkeypatch.setattr(gguf_info, "read_header", _no_read)
    assert inspect_gguf(path) is first


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "embed.gguf")
    assert inspect_gguf(path).kind == "embedding"
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(ModelFileError, match="incomplete"):
        inspect_gguf(path)
    path.unlink()
    with pytest.raises(ModelFileError, match="not found"):
        inspect_gguf(path)


def test_a_removed_split_part_is_noticed_after_caching(
    split_parts: list[Path], tmp_path: Path
) -> None:
    copies = _copy_parts(split_parts, tmp_path)
    assert inspect_gguf(copies[0]).kind == "chat"
    copies[1].unlink()
    with pytest.raises(ModelFileError, match="missing"):
        inspect_gguf(copies[0])


def _no_read(path: Path) -> None:
    raise AssertionError(f"{path} was read again")
