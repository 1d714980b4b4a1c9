"""bench/gpu_check_model.py: the cut and deepened SmolLM2 copies the GPU check carries."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
from bench.gpu_check_model import block_count, main, write_model


def _tensors(path: Path) -> dict[str, gguf.ReaderTensor]:
    return {t.name: t for t in gguf.GGUFReader(path).tensors}


def _greedy_reply(path: Path) -> ReplyStats:
    session = ChatSession.load(path, LoadOptions(n_ctx=512, n_threads=2, n_gpu_layers=0))
    try:
        greedy = SamplingOptions(temperature=0.0, repeat_penalty=1.0, max_tokens=8)
        events = list(session.reply([ChatMessage("user", "Hello there")], greedy))
    finally:
        session.close()
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def test_cut_model_keeps_the_first_blocks_and_loads(smollm2_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    assert main([str(smollm2_path), str(cut), "--keep", "2"]) == 0
    assert block_count(cut) == 2
    src, dst = _tensors(smollm2_path), _tensors(cut)
    assert {n for n in dst if n.startswith("blk.")} == {
        n for n in src if n.startswith(("blk.0.", "blk.1."))
    }
    for name in ("token_embd.weight", "blk.1.ffn_down.weight", "output_norm.weight"):
        assert np.array_equal(dst[name].data, src[name].data)
    assert cut.stat().st_size < smollm2_path.stat().st_size * 0.5
    # Lantern's engine loads it with its tokenizer and chat template and generates.
    stats = _greedy_reply(cut)
    assert stats.completion_tokens > 0
    assert stats.prompt_tokens > 3  # the chat template wrapped the question


def test_deepened_model_cycles_blocks(smollm2_path: Path, tmp_path: Path) -> None:
    cut, deep = tmp_path / "cut.gguf", tmp_path / "deep.gguf"
    write_model(smollm2_path, cut, [0, 1])
    assert main([str(cut), str(deep), "--depth", "5"]) == 0
    assert block_count(deep) == 5
    tensors = _tensors(deep)
    for i, src in enumerate([0, 1, 0, 1, 0]):
        assert np.array_equal(
            tensors[f"blk.{i}.attn_q.weight"].data, tensors[f"blk.{src}.attn_q.weight"].data
        )
    assert _greedy_reply(deep).completion_tokens > 0


def test_blocks_out_of_range_are_refused(smollm2_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"blocks must be in 0\.\.29"):
        write_model(smollm2_path, tmp_path / "x.gguf", [30])
    with pytest.raises(ValueError):
        write_model(smollm2_path, tmp_path / "x.gguf", [])
