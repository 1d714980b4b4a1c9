"""Model manager labels show hub-provided names and messages as text, never load them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.ui.model_manager_browse import SearchView
from app.ui.model_manager_downloads import DownloadRow
from tests.ui.conftest import write_red_png


def test_a_hostile_file_name_is_shown_not_loaded(qtbot: Any, tmp_path: Path) -> None:
    png = write_red_png(tmp_path / "big.png", 300, 200)
    name = f'a<img src="{png}">.gguf'
    row = DownloadRow(("evil/<img src=/dev/zero>", name), 1000)
    qtbot.addWidget(row)
    row.show()
    row.set_status("failed", f'The hub said: <img src="{png}">')
    assert row.title.sizeHint().height() < 100  # a loaded image would make it 200+ high
    assert row.detail.sizeHint().height() < 100
    assert row.detail.text() == f'The hub said: <img src="{png}">'
    assert "&lt;img" in row.title.text()


def test_the_repo_label_is_plain_text(qtbot: Any, tmp_path: Path) -> None:
    png = write_red_png(tmp_path / "big.png", 300, 200)
    view = SearchView()
    qtbot.addWidget(view)
    view.show()
    view.repo_label.setText(f'Files of x<img src="{png}">')
    assert view.repo_label.sizeHint().height() < 100
