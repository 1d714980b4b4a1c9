"""Will this model run here? Memory estimate per file, a badge, and a recommended file.

Formula (bytes), for a context of ``n_ctx`` tokens:

    weights   = size of the GGUF file(s)            (tensors are nearly the whole file)
    kv_cache  = n_ctx * n_layers * n_kv_heads * (key_length + value_length) * 2
                                                    (llama.cpp's default f16 K and V cache)
    overhead  = 256 MiB + 5% of weights             (compute buffers, logits, runtime)
    total     = weights + kv_cache + overhead

``n_ctx`` is the chosen context, capped at the model's training context. The shape
(layers, KV heads, head sizes) comes from the GGUF header when the file is local or its
first bytes were fetched, else from the catalogue, else it is guessed from the parameter
count (``exact=False``; see ``guess_shape``).

Badges: "gpu" when a GPU backend exists and total fits in free GPU memory less 512 MiB;
"cpu" when total fits in available RAM less 512 MiB; else "too_large".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.models.gguf_meta import Value
from app.models.gpu_memory import gpu_memory
from app.models.hub import HubModelFile
from app.models.progress import format_bytes
from app.models.quant import bits_per_weight, preference_rank

MiB = 1024 * 1024
RESERVE = 512 * MiB
DEFAULT_CTX = 4096
GOOD_BITS = 3.9  # Q3_K_M and up: below that, a CPU run of a better file beats a GPU one
Badge = Literal["gpu", "cpu", "too_large"]
BADGE_TEXT: dict[str, str] = {
    "gpu": "Fits on GPU",
    "cpu": "Fits in RAM (CPU)",
    "too_large": "Too large",
}


@dataclass(frozen=True)
class ModelShape:
    n_layers: int
    n_kv_heads: float  # mean over layers (some models vary it per layer)
    key_length: int
    value_length: int
    context_length: int | None = None
    exact: bool = True

    def kv_bytes(self, n_ctx: int, bytes_per_value: float = 2.0) -> int:
        per_token = self.n_layers * self.n_kv_heads * (self.key_length + self.value_length)
        return int(n_ctx * per_token * bytes_per_value)


@dataclass(frozen=True)
class Machine:
    ram_total: int
    ram_available: int
    gpu_backend: str = "cpu"
    gpu_total: int | None = None
    gpu_free: int | None = None

    @classmethod
    def current(cls) -> Machine:
        from app.engine import hardware

        total, available = hardware.memory()
        backend = hardware.gpu_backend()
        gpu = gpu_memory(backend, total, available) if backend != "cpu" else None
        return cls(total, available, backend, *(gpu or (None, None)))


@dataclass(frozen=True)
class Fit:
    badge: Badge
    weights: int
    kv_cache: int
    overhead: int
    n_ctx: int
    exact: bool

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead

    @property
    def label(self) -> str:
        return BADGE_TEXT[self.badge]

    def describe(self, machine: Machine) -> str:
        approx = "" if self.exact else " (KV cache estimated from the parameter count)"
        room = f"{format_bytes(machine.ram_available)} RAM free"
        if machine.gpu_free is not None:
            room += f", {format_bytes(machine.gpu_free)} GPU memory free"
        return (
            f"{format_bytes(self.weights)} weights + {format_bytes(self.kv_cache)} KV cache "
            f"at {self.n_ctx} tokens + {format_bytes(self.overhead)} runtime = "
            f"{format_bytes(self.total)}{approx}; {room}."
        )


def shape_from_keys(keys: dict[str, Value]) -> ModelShape | None:
    """A ``ModelShape`` from ``gguf_meta.read_shape_keys`` output (None if incomplete)."""
    arch = keys.get("general.architecture")
    if not isinstance(arch, str):
        return None

    def get(name: str) -> Value:
        return keys.get(f"{arch}.{name}")

    layers, heads, width = get("block_count"), get("attention.head_count"), get("embedding_length")
    kv = get("attention.head_count_kv")
    if not isinstance(layers, int) or not isinstance(width, int) or layers <= 0:
        return None
    heads_n = _mean(heads) or 1.0
    kv_n = _mean(kv) if kv is not None else heads_n
    head_dim = int(width / heads_n) if heads_n else width
    key_len, value_len = get("attention.key_length"), get("attention.value_length")
    ctx = get("context_length")
    return ModelShape(
        n_layers=layers,
        n_kv_heads=kv_n or heads_n,
        key_length=key_len if isinstance(key_len, int) else head_dim,
        value_length=value_len if isinstance(value_len, int) else head_dim,
        context_length=ctx if isinstance(ctx, int) else None,
    )


def guess_shape(n_params: int, context_length: int | None = None) -> ModelShape:
    """A rough shape from the parameter count: P ~ 12 * layers * width^2, with KV heads a
    quarter of the attention heads (grouped-query attention, as in Llama 3 / Qwen 2.5 /
    Mistral). Within about 2x of the real KV cache for current small models."""
    billions = n_params / 1e9
    layers = 24 if billions <= 2 else 32 if billions <= 10 else 40 if billions <= 16 else 64
    layers = 30 if billions <= 0.6 else layers
    width = math.sqrt(n_params / (12 * layers))
    kv_width = width / 4
    return ModelShape(layers, 1.0, int(kv_width), int(kv_width), context_length, exact=False)


def params_from_size(size: int, quant: str | None) -> int | None:
    bpw = bits_per_weight(quant)
    return int(size * 8 / bpw) if bpw else None


def estimate(
    size: int,
    machine: Machine,
    shape: ModelShape | None = None,
    n_ctx: int = DEFAULT_CTX,
    n_params: int | None = None,
    quant: str | None = None,
) -> Fit:
    if shape is None:
        params = n_params or params_from_size(size, quant) or size
        shape = guess_shape(params)
    ctx = min(n_ctx, shape.context_length) if shape.context_length else n_ctx
    kv = shape.kv_bytes(ctx)
    overhead = 256 * MiB + size // 20
    total = size + kv + overhead
    badge: Badge = "too_large"
    gpu_free = machine.gpu_free if machine.gpu_backend != "cpu" else None
    if gpu_free is not None and total + RESERVE <= gpu_free:
        badge = "gpu"
    if badge == "too_large" and total + RESERVE <= machine.ram_available:
        badge = "cpu"
    return Fit(badge, size, kv, overhead, ctx, shape.exact)


def recommend(
    files: Sequence[HubModelFile],
    machine: Machine,
    shape: ModelShape | None = None,
    n_ctx: int = DEFAULT_CTX,
    n_params: int | None = None,
    embedding: bool = False,
) -> HubModelFile | None:
    """The file to suggest: the preferred quantization (``quant.CHAT_PREFERENCE``) among
    those that fit on the GPU, if one of them keeps at least ~4 bits per weight; else the
    preferred one among all that fit in memory; None when nothing fits."""
    badges = {
        f.name: estimate(f.size, machine, shape, n_ctx, n_params, f.quantization).badge
        for f in files
        if f.complete
    }

    def best(candidates: list[HubModelFile]) -> HubModelFile | None:
        if not candidates:
            return None
        return min(candidates, key=lambda f: (preference_rank(f.quantization, embedding), -f.size))

    on_gpu = [f for f in files if badges.get(f.name) == "gpu" and _good_enough(f.quantization)]
    fitting = [f for f in files if badges.get(f.name) in ("gpu", "cpu")]
    return best(on_gpu) or best(fitting)


def _good_enough(quant: str | None) -> bool:
    bits = bits_per_weight(quant)
    return bits is None or bits >= GOOD_BITS


def _mean(value: Value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list) and value:
        return sum(value) / len(value)
    return None
