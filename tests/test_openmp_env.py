"""app.openmp_env: llama.cpp's OpenMP threads spin ~1 ms, not ~5 ms, after a computation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHOW = "import app.engine.llama_runtime, os; print(os.environ.get('GOMP_SPINCOUNT'))"


def _spin_count(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=REPO, env={**base, **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def test_set_before_llama_cpp_loads() -> None:
    assert _spin_count() == "50000"


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"GOMP_SPINCOUNT": "7"}, "7"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "None")],
)
def test_the_users_own_setting_is_kept(env: dict[str, str], expected: str) -> None:
    assert _spin_count(**env) == expected
