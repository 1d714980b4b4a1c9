"""GGUF file names: quantization labels, split parts, and which quantization to prefer.

Quantization comes from the file name here (the hub lists names, not headers); after a
download the registry reads the real one from the GGUF header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])("
    r"IQ[1-4]_(?:XXS|XS|NL|S|M)"
    r"|Q[2-8]_K(?:_(?:XL|S|M|L))?"
    r"|Q4_0_\d_\d"
    r"|Q[4-8]_[01]"
    r"|TQ[12]_0|MXFP4"
    r"|BF16|F16|FP16|F32|FP32"
    r"|Q[2-8]"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)

# Typical bits per weight of each quantization (llama.cpp's quantize table), used to guess a
# parameter count from a file size when nothing better is known.
BITS_PER_WEIGHT: dict[str, float] = {
    "IQ1_S": 1.56, "IQ1_M": 1.75, "IQ2_XXS": 2.06, "IQ2_XS": 2.31, "IQ2_S": 2.5,
    "IQ2_M": 2.7, "Q2_K": 2.96, "IQ3_XXS": 3.06, "IQ3_XS": 3.3, "IQ3_S": 3.44,
    "IQ3_M": 3.66, "Q3_K_S": 3.5, "Q3_K_M": 3.91, "Q3_K_L": 4.27, "Q3_K_XL": 4.3,
    "IQ4_XS": 4.25, "IQ4_NL": 4.5, "Q4_0": 4.55, "Q4_1": 5.0, "Q4_K_S": 4.58,
    "Q4_K_M": 4.89, "Q4_K_L": 5.0, "Q4": 4.9, "Q5_0": 5.54, "Q5_1": 6.0, "Q5_K_S": 5.52,
    "Q5_K_M": 5.7, "Q5_K_L": 5.8, "Q5": 5.7, "Q6_K": 6.56, "Q6_K_L": 6.6, "Q6": 6.56,
    "Q8_0": 8.5, "Q8": 8.5, "F16": 16.0, "BF16": 16.0, "F32": 32.0,
}  # fmt: skip

# Preference when picking one file of a repository, best first (among files that fit):
# Q4_K_M is the usual sweet spot; then the other 4-5 bit types; 3-bit and 2-bit only when
# nothing larger fits; F16/F32 last (twice the memory of Q8_0 for no gain in chat).
CHAT_PREFERENCE: tuple[str, ...] = (
    "Q4_K_M", "Q4_K_S", "Q5_K_M", "IQ4_XS", "IQ4_NL", "Q4_0", "Q4", "Q5_K_S", "Q4_K_L",
    "Q4_1", "Q5_0", "Q5_1", "Q5_K_L", "Q5", "Q6_K", "Q6_K_L", "Q6", "Q3_K_L", "Q3_K_XL",
    "Q3_K_M", "IQ3_M", "Q8_0", "Q8", "Q3_K_S", "IQ3_S", "IQ3_XS", "IQ3_XXS", "Q2_K",
    "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S", "F16", "BF16", "F32",
)  # fmt: skip
# Embedding models are small and sensitive to quantization: prefer 8 bits, then 16.
EMBEDDING_PREFERENCE: tuple[str, ...] = (
    "Q8_0", "Q8", "F16", "BF16", "Q6_K", "Q5_K_M", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S",
    "Q4_1", "Q4_0", "F32",
)  # fmt: skip


@dataclass(frozen=True)
class SplitName:
    stem: str
    index: int
    count: int

    @property
    def model_name(self) -> str:
        """The name the whole split model goes by: ``stem.gguf``."""
        return f"{self.stem}.gguf"


def parse_split(filename: str) -> SplitName | None:
    """``x-00002-of-00003.gguf`` -> SplitName("x", 2, 3); anything else -> None."""
    match = _SPLIT.match(filename.rsplit("/", 1)[-1])
    if match is None:
        return None
    return SplitName(match["stem"], int(match["index"]), int(match["count"]))


def part_names(split: SplitName, folder: str = "") -> list[str]:
    prefix = f"{folder}/" if folder else ""
    return [
        f"{prefix}{split.stem}-{i:05d}-of-{split.count:05d}.gguf" for i in range(1, split.count + 1)
    ]


def quant_from_name(filename: str) -> str | None:
    """The quantization label in a GGUF file name (``Q4_K_M``, ``IQ4_XS``, ``F16``...)."""
    base = filename.rsplit("/", 1)[-1]
    found = _QUANT.findall(base)
    if not found:
        return None
    label = found[-1].upper()
    return {"FP16": "F16", "FP32": "F32"}.get(label, label)


def bits_per_weight(quant: str | None) -> float | None:
    return BITS_PER_WEIGHT.get(quant.upper()) if quant else None


def preference_rank(quant: str | None, embedding: bool = False) -> int:
    """Lower is better; unknown labels rank after every known one."""
    order = EMBEDDING_PREFERENCE if embedding else CHAT_PREFERENCE
    if quant is None:
        return len(order) + 1
    try:
        return order.index(quant.upper())
    except ValueError:
        return len(order)


def is_gguf(filename: str) -> bool:
    return filename.lower().endswith(".gguf")
