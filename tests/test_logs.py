"""The log file is private and never buries the user's one-line error."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from app.logs import setup_logging
from tests.cli.conftest import assert_one_line_error, run_cli


@pytest.fixture
def restore_lantern_logger() -> object:
    root = logging.getLogger("lantern")
    handlers, level, propagate = list(root.handlers), root.level, root.propagate
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = propagate
    import app.logs

    app.logs._configured = None


def test_log_file_and_folder_are_private(tmp_path: Path, restore_lantern_logger: object) -> None:
    log_file = tmp_path / "logs" / "lantern.log"
    setup_logging(log_file)
    logging.getLogger("lantern.test").warning("hello")
    assert oct(log_file.stat().st_mode & 0o777) == "0o600"
    assert oct(log_file.parent.stat().st_mode & 0o777) == "0o700"


def test_an_old_public_log_becomes_private(tmp_path: Path, restore_lantern_logger: object) -> None:
    log_file = tmp_path / "logs" / "lantern.log"
    log_file.parent.mkdir(mode=0o755)
    log_file.write_text("old\n")
    os.chmod(log_file, 0o644)
    setup_logging(log_file)
    logging.getLogger("lantern.test").warning("hello")
    assert oct(log_file.stat().st_mode & 0o777) == "0o600"
    assert oct(log_file.parent.stat().st_mode & 0o777) == "0o700"


def test_rotated_logs_stay_private(tmp_path: Path, restore_lantern_logger: object) -> None:
    log_file = tmp_path / "logs" / "lantern.log"
    setup_logging(log_file)
    handler = logging.getLogger("lantern").handlers[0]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.doRollover()
    logging.getLogger("lantern.test").warning("after the rollover")
    for path in (log_file, log_file.with_name("lantern.log.1")):
        assert oct(path.stat().st_mode & 0o777) == "0o600", path


def test_text_that_is_not_utf8_is_escaped_not_an_error(
    tmp_path: Path, restore_lantern_logger: object, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "logs" / "lantern.log"
    setup_logging(log_file)
    logging.getLogger("lantern.test").warning("question %s", "\udcff\udcfe")
    assert "\\udcff\\udcfe" in log_file.read_text()
    assert capsys.readouterr().err == ""


def test_a_full_disk_under_the_log_prints_one_line(tmp_path: Path) -> None:
    """The log file on a full filesystem: the command's one line, no logging tracebacks."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "lantern.log").symlink_to("/dev/full")
    mode = os.stat("/dev/full").st_mode
    result = run_cli(home, "ask", "   ", timeout=120)
    assert_one_line_error(result, "question is empty")
    assert os.stat("/dev/full").st_mode == mode  # the device's mode is left alone
