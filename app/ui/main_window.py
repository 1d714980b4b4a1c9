"""The main window: lays out the widgets and wires them; the logic lives elsewhere.

Extension points for later features: ``models_menu`` (the model manager adds its
"Manage models…" action there), ``toolbar``, and ``add_panel(widget, title)`` for a dock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.ui.chat_controller import ChatController
from app.ui.chat_view import ChatView
from app.ui.composer import Composer
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.docs_controller import DocsController
from app.ui.gc_pauses import freeze_startup_objects
from app.ui.inference_worker import InferenceClient
from app.ui.model_controller import ModelController
from app.ui.model_picker import ModelPicker
from app.ui.notice_banner import NoticeBanner
from app.ui.specialists_ui import SpecialistsUi
from app.ui.status_bar import LanternStatusBar
from app.ui.store_writer import StoreWriter
from app.ui.style import STYLE


class MainWindow(QMainWindow):
    def __init__(self, db: Any, db_path: Path) -> None:
        super().__init__()
        self.setWindowTitle("Lantern")
        self.resize(1100, 720)
        self.setStyleSheet(STYLE)
        self.db = db
        self.db_path = db_path
        self.client = InferenceClient(db_path, self)
        self._models_window: Any = None  # created on first use: keeps launch fast

        self.writer = StoreWriter(self.client, self)  # the GUI thread's writes, on the worker
        self.sidebar = ConversationSidebar(db, self)
        self.sidebar.writer = self.writer
        self.chat_view = ChatView(self)
        self.banner = NoticeBanner(self)
        self.composer = Composer(self)
        self.picker = ModelPicker(self)
        self.status = LanternStatusBar(self)
        self.setStatusBar(self.status)
        self._build_layout()

        self.models = ModelController(db, self.client, self.picker, self.status, self.banner, self)
        self.chat = ChatController(
            db, self.client, self.models, self.chat_view, self.composer,
            self.sidebar, self.banner, self.status, self,
        )  # fmt: skip
        self.models.writer = self.writer
        self.chat.writer = self.writer  # issue 10: branch switch, delete and undo
        self.writer.error.connect(self.chat._store_error)
        self.docs = DocsController(self)
        self._banner_row.insertWidget(0, self.docs.progress)
        self._build_menus()
        self.specialists = SpecialistsUi(self)  # issue 9: menus, pool status, routing
        self.models.refresh()
        self.sidebar.refresh()  # none selected: typing starts a new conversation
        self.composer.input.setFocus()
        freeze_startup_objects()

    def _build_layout(self) -> None:
        self.toolbar = QToolBar("Model", self)
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(QLabel(" Model: ", self))
        self.toolbar.addWidget(self.picker)
        self.addToolBar(self.toolbar)

        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.chat_view, 1)
        banner_row = self._banner_row = QVBoxLayout()
        banner_row.setContentsMargins(12, 6, 12, 0)
        banner_row.addWidget(self.banner)
        column.addLayout(banner_row)
        column.addWidget(self.composer)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 860])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(
            file_menu, "&New chat", self.sidebar.new_conversation, QKeySequence.StandardKey.New
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        chat_menu = bar.addMenu("&Chat")
        self._action(chat_menu, "&Stop answer", self.chat.stop, QKeySequence(Qt.Key.Key_Escape))
        self._action(
            chat_menu, "&Add documents\u2026", self.docs.attach, QKeySequence("Ctrl+Shift+A")
        )
        self._action(chat_menu, "Use document &collection\u2026", self.docs.choose_collection)
        chat_menu.addSeparator()
        chat_menu.addAction(self.sidebar.rename_action)
        chat_menu.addAction(self.sidebar.delete_action)

        self.models_menu = bar.addMenu("&Models")
        self._action(
            self.models_menu,
            "&Manage models\u2026",
            self.open_model_manager,
            QKeySequence("Ctrl+M"),
        )
        self._action(self.models_menu, "&Open model file\u2026", self.choose_model_file)
        self._action(self.models_menu, "&Refresh list", self.models.refresh)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About Lantern", self._about)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def add_panel(
        self,
        widget: QWidget,
        title: str,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
    ) -> QDockWidget:
        """Dock a feature's widget (model manager, documents) beside the chat."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def open_model_manager(self) -> None:
        """Catalogue, hub search, downloads and installed models, in their own window."""
        if self._models_window is None:
            from app.ui.models_window import ModelsWindow

            window = ModelsWindow(self.db, self.db_path, self)
            window.manager.use_model.connect(self.models.use_model)
            window.manager.models_changed.connect(self.models.refresh)
            self._models_window = window
        self._models_window.present()

    def choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a GGUF model", str(Path.home()), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self.models.open_file(Path(path))

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Lantern",
            f"Lantern {__version__}\nA private, offline assistant: models run on this "
            "computer and your conversations stay in a local database.",
        )

    def shutdown(self) -> None:
        """Stop the answer and downloads, free the model on its thread, wait for threads."""
        if self._models_window is not None:
            self._models_window.shutdown()
        self.docs.shutdown()
        self.client.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
