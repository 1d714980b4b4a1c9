from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.engine.llama_log import route_llama_log
from app.engine.session import ChatSession
from app.engine.types import LoadOptions

ROOT = Path(__file__).resolve().parents[2]


def test_llama_log_reaches_the_lantern_logger(
    smollm2_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    route_llama_log()
    route_llama_log()  # idempotent
    with caplog.at_level(logging.DEBUG, logger="lantern.llama"):
        session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=256, n_threads=1))
        session.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "lantern.llama"]
    assert any("llama_model_loader" in line for line in lines)
    assert all(not line.endswith("\n") for line in lines)


SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from pathlib import Path
    from app.logs import setup_logging
    setup_logging(Path(sys.argv[1]), level=logging.DEBUG)
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, SamplingOptions
    for path in sys.argv[2:]:
        session = ChatSession.load(Path(path), LoadOptions(n_ctx=512, n_threads=2))
        events = list(session.reply([ChatMessage("user", "Hi")], SamplingOptions(max_tokens=8)))
        assert events[-1].completion_tokens > 0
        session.close()
    """
)


@pytest.mark.slow
def test_nothing_reaches_stdout_or_stderr(
    smollm2_path: Path, gemma_path: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "lantern.log"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log_file), str(smollm2_path), str(gemma_path)],
        cwd=ROOT,
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert proc.stdout == b""
    assert proc.stderr == b""
    log_text = log_file.read_text(encoding="utf-8")
    assert "lantern.llama" in log_text and "llama_model_loader" in log_text
