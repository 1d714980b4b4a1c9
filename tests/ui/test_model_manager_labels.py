"""Model manager labels show hub-provided names and messages as text, never load them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QImage

from app.ui.model_manager_browse import SearchView
from app.ui.model_manager_downloads import DownloadRow


def _big_png(tmp_path: Path) -> Path:
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 0))
    path = tmp_path / "big.png"
    assert image.save(str(path))
    return path


def test_a_hostile_file_name_is_shown_not_loaded(qtbot: Any, tmp_path: Path) -> None:
    png = _big_png(tmp_path)
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
    png = _big_png(tmp_path)
    view = SearchView()
    qtbot.addWidget(view)
    view.show()
    view.repo_label.setText(f'Files of x<img src="{png}">')
    assert view.repo_label.sizeHint().height() < 100
