"""Flash attention for a chat context: off on the CPU, llama.cpp's own choice on a GPU.

Measured with SmolLM2 on 2 CPU cores (``python -m bench.engine_flash``; results under
"flash_attn" in bench/results/engine.json), flash attention off takes 0.20x the time of a
15-token follow-up after 2.8k cached tokens (a turn in a long conversation), 0.45x per
generated token at 2.8k tokens of context and 0.64x at 1k, about the same at 40 tokens,
and 1.15x for a cold 2.8k-token prompt. llama.cpp's ``auto`` turns it on for the CPU, so
Lantern asks for it off there.

The price: with it off, the logits of a batch differ from those of single-token decodes by
rounding, enough to change a greedy answer (4 of 8 prompts on this machine), and drafting
(``app.engine.draft``) promises the same greedy tokens with and without it. So a context
that drafts keeps flash attention on: ``engine.draft`` set to a number loads the model with
it on (``app.chat.settings.load_options_for``), and automatic drafting drafts only where
the tokens are known to stay the same (``drafts_exactly``): on the CPU with flash
attention on. Not on a GPU: on CUDA batched logits differ from single-token ones with
flash attention on or off, and forced drafting changed greedy answers there
(bench/results/gpu_check.json), so a GPU drafts only when the user sets a number.
"""

from __future__ import annotations

import llama_cpp

from app.engine import hardware

AUTO = int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO)  # llama.cpp decides (on where supported)
OFF = int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
ON = int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED)
NAMES = {AUTO: "auto", OFF: "off", ON: "on"}


def flash_attn_type(flash_attn: bool | None, n_gpu_layers: int) -> int:
    """llama.cpp's ``flash_attn_type`` for a chat context: ``flash_attn`` when given, else
    llama.cpp's auto where layers go to a GPU and off on the CPU."""
    if flash_attn is not None:
        return ON if flash_attn else OFF
    return AUTO if _on_gpu(n_gpu_layers) else OFF


def drafts_exactly(flash_type: int, n_gpu_layers: int) -> bool:
    """Whether drafted batches give a context's single-token tokens: flash attention on
    and every layer on the CPU (see the module's text)."""
    return flash_type == ON and not _on_gpu(n_gpu_layers)


def _on_gpu(n_gpu_layers: int) -> bool:
    """Whether ``n_gpu_layers`` puts layers on a GPU with this build."""
    return n_gpu_layers != 0 and hardware.gpu_offload_supported()
