"""The Catalogue and Search views: models to download, each file with a fit badge.

Neither view touches the network itself: they emit requests that the manager sends to
the ``HubWorker`` and show what comes back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models import fit
from app.models.catalogue import CatalogueEntry, load_catalogue
from app.models.progress import format_bytes

BADGE_COLORS = {"gpu": "#1d6b2c", "cpu": "#1d3f7a", "too_large": "#8a1c1c"}


def badge_item(estimate: fit.Fit | None, machine: fit.Machine | None) -> QTableWidgetItem:
    if estimate is None or machine is None:
        return QTableWidgetItem("\u2026")
    item = QTableWidgetItem(estimate.label)
    item.setForeground(QColor(BADGE_COLORS[estimate.badge]))
    item.setToolTip(estimate.describe(machine))
    item.setData(Qt.ItemDataRole.UserRole, estimate.badge)
    return item


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


class CatalogueView(QWidget):
    download_requested = Signal(str, str)  # repo, file

    HEADERS = ("Model", "Good for", "Size", "Context", "License", "Fit", "")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: tuple[CatalogueEntry, ...] = load_catalogue()
        self.machine: fit.Machine | None = None
        self.n_ctx = fit.DEFAULT_CTX
        self.table = _table(self.HEADERS)
        self.table.setRowCount(len(self.entries))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Curated models. Sizes are approximate until the hub lists the file; "
                "every download is checked against the hub's SHA-256."
            )
        )
        layout.addWidget(self.table)
        self._fill()

    def set_machine(self, machine: fit.Machine) -> None:
        self.machine = machine
        self._fill()

    def badge(self, row: int) -> str | None:
        item = self.table.item(row, 5)
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _fill(self) -> None:
        for row, e in enumerate(self.entries):
            name = QTableWidgetItem(f"{e.name}\n{e.description}")
            name.setToolTip(f"{e.repo} / {e.file}\n{e.parameters / 1e9:.2f}B parameters")
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(", ".join(e.good_for)))
            self.table.setItem(row, 2, QTableWidgetItem(format_bytes(e.approx_size_bytes)))
            self.table.setItem(row, 3, QTableWidgetItem(f"{e.context_length:,}"))
            self.table.setItem(row, 4, QTableWidgetItem(e.license))
            estimate = None
            if self.machine is not None:
                estimate = fit.estimate(
                    e.approx_size_bytes, self.machine, e.shape, self.n_ctx, e.parameters
                )
            self.table.setItem(row, 5, badge_item(estimate, self.machine))
            if self.table.cellWidget(row, 6) is None:
                button = QPushButton("Download")
                button.clicked.connect(
                    lambda _=False, e=e: self.download_requested.emit(e.repo, e.file)
                )
                self.table.setCellWidget(row, 6, button)
        self.table.resizeRowsToContents()


class SearchView(QWidget):
    search_requested = Signal(str, str)  # query, sort
    files_requested = Signal(str, int)  # repo, context tokens
    download_requested = Signal(str, str)  # repo, file
    token_saved = Signal(str)

    FILE_HEADERS = ("File", "Quant", "Size", "Fit", "SHA-256", "")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search GGUF models on the hub, e.g. qwen2.5 coder")
        self.sort = QComboBox()
        self.sort.addItems(["downloads", "likes"])
        self.go = QPushButton("Search")
        self.context = QSpinBox()
        self.context.setRange(512, 262144)
        self.context.setSingleStep(1024)
        self.context.setValue(fit.DEFAULT_CTX)
        self.context.setSuffix(" tokens")
        self.results = QListWidget()
        self.files = _table(self.FILE_HEADERS)
        self.repo_label = QLabel()
        self.repo_label.setTextFormat(Qt.TextFormat.PlainText)  # repo names come from the hub
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Hugging Face token (only for gated or private models)")
        self.save_token = QPushButton("Save token")
        self.current_repo: str | None = None
        top = QHBoxLayout()
        for w in (self.query, self.sort, self.go):
            top.addWidget(w)
        ctx = QHBoxLayout()
        ctx.addWidget(QLabel("Fit for a context of"))
        ctx.addWidget(self.context)
        ctx.addStretch(1)
        tok = QHBoxLayout()
        tok.addWidget(self.token, 1)
        tok.addWidget(self.save_token)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.repo_label)
        layout.addLayout(ctx)
        layout.addWidget(self.files, 2)
        layout.addLayout(tok)
        self.go.clicked.connect(self._search)
        self.query.returnPressed.connect(self._search)
        self.results.currentItemChanged.connect(self._pick_repo)
        self.context.editingFinished.connect(self._refresh_files)
        self.save_token.clicked.connect(lambda: self.token_saved.emit(self.token.text()))

    def _search(self) -> None:
        self.search_requested.emit(self.query.text().strip(), self.sort.currentText())

    def show_results(self, found: list[Any]) -> None:
        self.results.clear()
        for r in found:
            gated = "  \U0001f512 gated" if r.gated else ""
            item = QListWidgetItem(f"{r.repo_id}   \u2193{r.downloads:,}  \u2665{r.likes}{gated}")
            item.setData(Qt.ItemDataRole.UserRole, r.repo_id)
            self.results.addItem(item)
        if not found:
            self.results.addItem(QListWidgetItem("No GGUF repositories match."))

    def _pick_repo(self, item: QListWidgetItem | None) -> None:
        repo = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if repo:
            self.current_repo = repo
            self._refresh_files()

    def _refresh_files(self) -> None:
        if self.current_repo:
            self.repo_label.setText(f"Files of {self.current_repo}: loading\u2026")
            self.files_requested.emit(self.current_repo, self.context.value())

    def show_files(self, view: Any) -> None:
        self.current_repo = view.listing.repo_id
        best = f"  \u2605 recommended here: {view.recommended}" if view.recommended else ""
        self.repo_label.setText(f"Files of {view.listing.repo_id} ({view.license}){best}")
        self.files.setRowCount(len(view.rows))
        bold = QFont()
        bold.setBold(True)
        for row, r in enumerate(view.rows):
            parts = f" ({len(r.file.parts)} parts)" if r.file.is_split else ""
            name = QTableWidgetItem(("\u2605 " if r.recommended else "") + r.file.name + parts)
            if r.recommended:
                name.setFont(bold)
            self.files.setItem(row, 0, name)
            self.files.setItem(row, 1, QTableWidgetItem(r.file.quantization or "?"))
            self.files.setItem(row, 2, QTableWidgetItem(format_bytes(r.file.size)))
            self.files.setItem(row, 3, badge_item(r.fit, view.machine))
            self.files.setItem(row, 4, QTableWidgetItem((r.file.parts[0].sha256 or "")[:16]))
            button = QPushButton("Download")
            button.clicked.connect(
                lambda _=False, f=r.file: self.download_requested.emit(f.repo_id, f.name)
            )
            self.files.setCellWidget(row, 5, button)
