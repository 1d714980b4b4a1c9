"""The Documents view: collections and their files, in a window of their own.

Left, the user's collections (New, Rename, Delete); right, the chosen collection's files
with their state (indexed, pages, chunks, problems such as a scanned PDF with no OCR) and
Add files, Add folder (or drop them on the table), Re-index and Remove. Indexing runs on
the ingest worker (progress below the table); collection changes run on the documents
worker; this window only reads the store. Every refused input is said in the message line
at the bottom.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors import LanternError
from app.knowledge import collections as colls
from app.ui.docs_drop import DropTarget
from app.ui.docs_progress import IngestProgress
from app.ui.documents_files import FileTable
from app.ui.safe_text import plain_label

if TYPE_CHECKING:
    from app.ui.docs_controller import DocsController


def ask_name(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """The text typed, as typed (so an empty name gets its message), or None if cancelled."""
    from app.ui.dialogs import make_text_dialog

    dialog = make_text_dialog(parent, title, label, text)
    return dialog.textValue() if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


class DocumentsWindow(QDialog):
    def __init__(self, controller: DocsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Documents \u2014 Lantern")
        self.resize(1080, 600)
        self.controller = controller
        self.db = controller.window.db
        self.collections = QListWidget()
        self.collections.setAccessibleName("Collections")
        self.collections.currentItemChanged.connect(lambda *_: self._show_files())
        self.new_button = QPushButton("New\u2026")
        self.rename_button = QPushButton("Rename\u2026")
        self.delete_button = QPushButton("Delete\u2026")
        self.new_button.clicked.connect(self._on_new)
        self.rename_button.clicked.connect(self._on_rename)
        self.delete_button.clicked.connect(self._on_delete)
        self.files = FileTable()
        self.files.setAccessibleName("Files")
        self.files_title = QLabel("")
        self.add_files_button = QPushButton("Add files\u2026")
        self.add_folder_button = QPushButton("Add folder\u2026")
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip("Index new and changed files again, drop deleted ones")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the selected files (the files stay on disk)")
        self.add_files_button.clicked.connect(self._on_add_files)
        self.add_folder_button.clicked.connect(self._on_add_folder)
        self.reindex_button.clicked.connect(self.reindex)
        self.remove_button.clicked.connect(self._on_remove)
        self.progress = IngestProgress(self)
        self.message = plain_label(QLabel(""))
        self.message.setWordWrap(True)
        self._build()
        self._wire()
        self.refresh()

    def _build(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Collections"))
        column.addWidget(self.collections, 1)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        right = QWidget()
        files = QVBoxLayout(right)
        files.setContentsMargins(0, 0, 0, 0)
        files.addWidget(self.files_title)
        files.addWidget(self.files, 1)
        actions = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.reindex_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        files.addLayout(actions)
        files.addWidget(self.progress)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([220, 860])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

    def _wire(self) -> None:
        worker = self.controller.ingest().worker
        worker.started.connect(self.progress.on_started)
        worker.progress.connect(self.progress.on_progress)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self.progress.on_finished)
        worker.finished.connect(self._on_finished)
        self.progress.cancel_requested.connect(self.controller.ingest().cancel)
        self.drop_target = DropTarget(self.files.viewport())  # files dropped on the table
        self.drop_target.paths_dropped.connect(self.add_paths)
        self.controller.changed.connect(self.refresh)

    # -- reading ----------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        item = self.collections.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    @Slot()
    def refresh(self, select: str | None = None) -> None:
        """Reload the collections and the chosen one's files from the store."""
        keep = select or self.current
        try:
            rows = colls.named_collections(self.db)
        except LanternError as exc:
            self.say(str(exc), error=True)
            return
        self.collections.blockSignals(True)
        self.collections.clear()
        for row in rows:
            item = QListWidgetItem(f"{row['name']}  ({row['documents']})")
            item.setData(Qt.ItemDataRole.UserRole, row["name"])
            item.setToolTip(f"{row['documents']} documents, {row['chunks']} chunks")
            self.collections.addItem(item)
            if keep is not None and row["name"].lower() == keep.lower():
                self.collections.setCurrentItem(item)
        if self.collections.currentItem() is None and self.collections.count():
            self.collections.setCurrentRow(0)
        self.collections.blockSignals(False)
        self._show_files()

    def _show_files(self) -> None:
        name = self.current
        has = name is not None
        for button in self._needs_collection():
            button.setEnabled(has)
        if name is None:
            self.files.set_entries([])
            self.files_title.setText("Make a collection with New\u2026, then add files or a folder")
            return
        try:
            entries = colls.collection_files(self.db, name)
        except LanternError as exc:
            self.say(str(exc), error=True)
            return
        self.files.set_entries(entries)
        problems = sum(1 for e in entries if e.state in ("problem", "missing"))
        summary = f"{len(entries)} files in {name!r}"
        if problems:
            summary += f" \u00b7 {problems} need attention"
        self.files_title.setText(summary)

    def _needs_collection(self) -> list[QPushButton]:
        return [
            self.rename_button, self.delete_button, self.add_files_button,
            self.add_folder_button, self.reindex_button, self.remove_button,
        ]  # fmt: skip

    @Slot(object)
    def _on_progress(self, p: Any) -> None:
        self.files.mark_busy(p.current if p.files_done < p.files_total else None)

    @Slot(object)
    def _on_finished(self, report: Any) -> None:
        self.files.mark_busy(None)
        if report.failures:
            self.say(f"{len(report.failures)} file(s) could not be indexed: see Details.", True)
        else:
            self.say("")

    def say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b3261e;" if error else "")
        self.message.setText(text)

    def _failed(self, text: str) -> None:
        self.say(text, error=True)

    # -- collections ------------------------------------------------------------------
    def create(self, name: str) -> None:
        def done(row: dict) -> None:
            self.say(f"Made the collection {row['name']!r}: add files or a folder to it.")
            self.refresh(select=row["name"])

        self.controller.documents.request("create_collection", done, self._failed, name=name)

    def rename(self, new: str) -> None:
        old = self.current
        if old is None:
            return

        def done(row: dict) -> None:
            self.say(f"Renamed {old!r} to {row['name']!r}.")
            self.controller.collections_changed()
            self.refresh(select=row["name"])

        self.controller.documents.request("rename_collection", done, self._failed, old=old, new=new)

    def delete(self) -> None:
        name = self.current
        if name is None:
            return

        def done(removed: int) -> None:
            self.say(f"Deleted {name!r} ({removed} documents forgotten; the files stay on disk).")
            self.controller.collections_changed()
            self.refresh()

        self.controller.documents.request("delete_collection", done, self._failed, name=name)

    def _on_new(self) -> None:
        name = ask_name(self, "New collection", "Name of the new collection:")
        if name is not None:
            self.create(name)

    def _on_rename(self) -> None:
        if self.current is not None:
            name = ask_name(self, "Rename collection", "New name:", self.current)
            if name is not None:
                self.rename(name)

    def _on_delete(self) -> None:
        name = self.current
        if name is not None and confirm(
            self, "Delete collection",
            f"Delete the collection {name!r}? Its documents are forgotten by Lantern; the "
            "files on disk are not touched.",
        ):  # fmt: skip
            self.delete()

    # -- files --------------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        name = self.current
        if name is None:
            self.say("Choose or make a collection first.", error=True)
            return
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            self.say(f"There is no file or folder {missing[0]}.", error=True)
            paths = [p for p in paths if Path(p).exists()]
        if paths:
            self.controller.index_into(name, paths)
            if not missing:
                self.say(f"Adding {len(paths)} item(s) to {name!r}\u2026")

    def reindex(self) -> None:
        name = self.current
        if name is not None:
            self.controller.reindex(name)
            self.say(f"Re-indexing {name!r}: changed files again, deleted ones dropped\u2026")

    def remove_selected(self) -> None:
        name = self.current
        paths = self.files.selected_paths()
        if name is None or not paths:
            self.say("Select the files to remove first.", error=True)
            return
        left = len(paths)

        def done(_removed: int) -> None:
            nonlocal left
            left -= 1
            if left == 0:
                self.say(f"Removed {len(paths)} file(s) from {name!r}; they stay on disk.")
                self.controller.collections_changed()

        for path in paths:
            self.controller.documents.request(
                "remove_file", done, self._failed, collection=name, path=path
            )

    def _on_add_files(self) -> None:
        from app.ui.docs_drop import choose_documents

        paths = choose_documents(self)
        if paths:
            self.add_paths(paths)

    def _on_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder (watched for changes)")
        if folder:
            self.add_paths([Path(folder)])

    def _on_remove(self) -> None:
        self.remove_selected()

    def present(self) -> None:
        self.refresh()
        self.show()
        self.raise_()
        self.activateWindow()
