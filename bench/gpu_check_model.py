"""A smaller or deeper copy of a GGUF chat model, for the one-off GPU check (bench/gpu_check.py).

SmolLM2-135M (98 MB) is too big to travel to the device machine (its working tree is
limited to 64 MiB, the llama.cpp sources included). ``write_model`` copies a model's
metadata (tokenizer, chat template...) and its tensors outside the blocks unchanged and
writes the transformer blocks in the order ``blocks`` gives, with ``<arch>.block_count``
set to match: ``[0, 1, 2, 3]`` keeps the first four blocks (about 39 MB for SmolLM2),
``[0, 1, 2, 3, 0, 1, ...]`` cycles them back to the original depth on the device, so
the GPU path runs a network of SmolLM2's real shapes. Its text is gibberish; the
tokenizer, chat template and every kernel of the real model are exercised.

    python -m bench.gpu_check_model SRC DST --keep 4     # the first 4 blocks
    python -m bench.gpu_check_model SRC DST --depth 30   # SRC's blocks cycled to 30
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

import gguf

_BLOCK = re.compile(r"^blk\.(\d+)\.(.+)$")


def block_count(path: Path) -> int:
    """``<arch>.block_count`` of a GGUF file."""
    reader = gguf.GGUFReader(path)
    arch = reader.fields["general.architecture"].contents()
    return int(reader.fields[f"{arch}.block_count"].contents())


def write_model(src: Path, dst: Path, blocks: Sequence[int]) -> int:
    """Write ``dst``: ``src`` with block ``i`` of the copy taken from block ``blocks[i]``
    of ``src``. Returns the bytes of tensor data written."""
    reader = gguf.GGUFReader(src)
    arch = str(reader.fields["general.architecture"].contents())
    count_key = f"{arch}.block_count"
    n_src = int(reader.fields[count_key].contents())
    if not blocks or any(not 0 <= b < n_src for b in blocks):
        raise ValueError(f"blocks must be in 0..{n_src - 1}: {list(blocks)}")
    per_block: dict[int, list[gguf.ReaderTensor]] = {}
    head: list[gguf.ReaderTensor] = []  # before the blocks (token_embd)
    tail: list[gguf.ReaderTensor] = []  # after them (output_norm, output)
    for tensor in reader.tensors:
        m = _BLOCK.match(tensor.name)
        if m:
            per_block.setdefault(int(m.group(1)), []).append(tensor)
        else:
            (tail if per_block else head).append(tensor)
    order: list[tuple[str, gguf.ReaderTensor]] = [(t.name, t) for t in head]
    for i, b in enumerate(blocks):
        for t in per_block[b]:
            suffix = _BLOCK.match(t.name).group(2)  # type: ignore[union-attr]
            order.append((f"blk.{i}.{suffix}", t))
    order += [(t.name, t) for t in tail]

    writer = gguf.GGUFWriter(dst, arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # written by GGUFWriter itself
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = len(blocks) if field.name == count_key else field.contents()
        writer.add_key_value(field.name, value, vtype, sub_type=sub)
    for name, t in order:
        writer.add_tensor_info(name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    total = 0
    for _, t in order:
        writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
        total += int(t.n_bytes)
    writer.close()
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--keep", type=int, help="keep the first N blocks")
    group.add_argument("--depth", type=int, help="cycle SRC's blocks to N blocks")
    args = parser.parse_args(argv)
    n_src = block_count(args.src)
    if args.keep is not None:
        blocks = list(range(args.keep))
    else:
        blocks = [i % n_src for i in range(args.depth)]
    written = write_model(args.src, args.dst, blocks)
    print(f"{args.dst}: {len(blocks)} blocks, {written / 1e6:.1f} MB of tensors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
