"""LoRA adapters (GGUF) applied to a loaded model's context, without reloading the model.

``AdapterSet(runtime)`` loads each adapter file once per model (llama.cpp's
``llama_adapter_lora_init``; the model frees them with itself) and sets the wanted ones
with their scales on the context (``llama_set_adapters_lora``; an empty list removes
them). Before llama.cpp sees a file its header is checked: it must be an adapter
(``general.type = adapter``) for the model's architecture; llama.cpp itself refuses
tensors whose shapes do not fit the model. Both are ``AdapterError``. Changing the
adapters changes what the cached keys/values would be, so the caller empties the KV cache
(``ChatSession.set_adapters`` does). One owner thread, like the runtime.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine.gguf_info import inspect_gguf
from app.errors import AdapterError, LanternError
from app.logs import get_logger

log = get_logger("engine")

Wanted = Sequence[tuple[Path, float]]
"""Adapters to apply: (file, scale) pairs."""


class AdapterSet:
    """The adapters loaded for one model and the ones set on its context."""

    def __init__(self, model_ptr: Any, ctx_ptr: Any, architecture: str) -> None:
        self._model = model_ptr
        self._ctx = ctx_ptr
        self._arch = architecture
        self._loaded: dict[str, Any] = {}  # resolved path -> llama_adapter_lora pointer
        self.applied: tuple[tuple[str, float], ...] = ()

    def load(self, path: Path) -> Any:
        """The adapter in ``path`` loaded for this model (once); clear errors otherwise."""
        key = str(Path(path).resolve())
        if key in self._loaded:
            return self._loaded[key]
        name = Path(path).name
        try:
            info = inspect_gguf(Path(path))
        except LanternError as exc:
            raise AdapterError(f"The LoRA adapter {name} cannot be read: {exc}") from exc
        if info.kind != "adapter":
            raise AdapterError(
                f"{name} is a {info.kind} model, not a LoRA adapter; pick an adapter file "
                "(general.type = adapter)."
            )
        if info.architecture != self._arch:
            raise AdapterError(
                f"The LoRA adapter {name} was made for the {info.architecture} architecture, "
                f"but the model is {self._arch}; use an adapter trained for this model."
            )
        adapter = llama_cpp.llama_adapter_lora_init(self._model, key.encode())
        if not adapter:
            raise AdapterError(
                f"The LoRA adapter {name} does not fit this model (its tensors' names or "
                "shapes differ from the model's); use an adapter trained for this model."
            )
        self._loaded[key] = adapter
        log.info("loaded LoRA adapter %s", name)
        return adapter

    def apply(self, wanted: Wanted) -> bool:
        """Set exactly ``wanted`` on the context (empty: none); True if that changed."""
        want = tuple((str(Path(p).resolve()), float(s)) for p, s in wanted)
        if want == self.applied:
            return False
        handles = [self.load(Path(p)) for p, _ in want]  # all checked before any is set
        n = len(handles)
        array = (llama_cpp.llama_adapter_lora_p_ctypes * max(n, 1))(*handles)
        scales = (ctypes.c_float * max(n, 1))(*(s for _, s in want))
        rc = llama_cpp.llama_set_adapters_lora(self._ctx, array if n else None, n,
                                               scales if n else None)  # fmt: skip
        if rc != 0:
            raise AdapterError(f"llama.cpp could not apply the LoRA adapters (code {rc}).")
        self.applied = want
        log.info("LoRA adapters on the context: %s", [Path(p).name for p, _ in want] or "none")
        return True
