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
from app.gc_pauses import freeze_startup_objects
from app.ui.chat_controller import ChatController
from app.ui.chat_view import ChatView
from app.ui.composer import Composer
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.docs_controller import DocsController
from app.ui.inference_worker import InferenceClient
from app.ui.model_controller import ModelController
from app.ui.model_picker import ModelPicker
from app.ui.notice_banner import NoticeBanner
from app.ui.settings_panel import SettingsPanel
from app.ui.shortcuts import help_text, keys_for, make_action
from app.ui.specialists_ui import SpecialistsUi
from app.ui.status_bar import LanternStatusBar
from app.ui.store_writer import StoreWriter
from app.ui.style import apply_theme
from app.ui.window_state import WindowState


class MainWindow(QMainWindow):
    def __init__(self, db: Any, db_path: Path) -> None:
        super().__init__()
        self.setWindowTitle("Lantern")
        self.resize(1100, 720)
        self.db = db
        self.db_path = db_path
        self.apply_theme()
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
        self._banner_row.addWidget(self.docs.chips)  # issue 11: what the chat draws on
        self._build_menus()
        self.specialists = SpecialistsUi(self)  # issue 9: menus, pool status, routing
        self._wire_shell()
        self.models.refresh()
        self.sidebar.refresh()  # none selected: typing starts a new conversation
        self._restore_state()
        self.composer.input.setFocus()
        freeze_startup_objects()

    def _build_layout(self) -> None:
        self.toolbar = QToolBar("Model", self)
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(QLabel(" Model: ", self))
        self.toolbar.addWidget(self.picker)
        self.picker.setAccessibleName("Model")
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

        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 860])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New chat", self.sidebar.new_chat, QKeySequence.StandardKey.New)
        self._history_menu(file_menu)  # issue 10: search, export, import (app.ui.history_files)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        chat_menu = bar.addMenu("&Chat")
        self._action(chat_menu, "&Stop answer", self.chat.stop, QKeySequence(Qt.Key.Key_Escape))
        self._action(chat_menu, "&Add documents\u2026", self.docs.attach, keys_for("add_documents"))
        self._action(chat_menu, "Use document &collection\u2026", self.docs.choose_collection)
        self._action(  # issue 11: collections and their files
            chat_menu, "&Documents\u2026", self.docs.open_documents, keys_for("open_documents")
        )
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
        from app.ui.api_server_toggle import attach as attach_api  # issue 14: local API

        self.api_toggle = attach_api(self, self.models_menu, self.db_path)

        self.help_menu = help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Welcome\u2026", self.show_welcome)
        self._action(help_menu, "&Keyboard shortcuts", self._show_shortcuts)
        self._action(help_menu, "&About Lantern", self._about)
        self.chat_menu = chat_menu

    def _history_menu(self, file_menu: Any) -> None:
        from app.ui import history_files as files

        self._action(file_menu, "&Search messages\u2026", self.sidebar.focus_search)  # Ctrl+F
        self._action(file_menu, "&Export conversation\u2026", lambda: files.export_chats(self))
        self._action(
            file_menu, "Export &all conversations\u2026", lambda: files.export_chats(self, True)
        )
        self._action(file_menu, "&Import conversations\u2026", lambda: files.import_chats(self))
        self.sidebar.opened.connect(self.chat.show_conversation)  # a search result, at it
        self.sidebar.purge()  # what a killed Lantern left waiting for undo

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

    # -- the shell: settings, shortcuts, banner scope, window state (issue 10) ----------

    def _wire_shell(self) -> None:
        self.settings_panel = SettingsPanel(self.db, self.writer, self)
        self.settings_dock = self.add_panel(self.settings_panel, "Chat settings")
        self.settings_dock.hide()
        toggle = self.settings_dock.toggleViewAction()
        toggle.setText("Chat &settings")
        toggle.setShortcut(keys_for("toggle_chat_settings"))
        toggle.setToolTip("Model, system prompt and sampling of this chat")
        self.toolbar.addSeparator()
        self.toolbar.addAction(toggle)
        self.chat_menu.addAction(toggle)
        self.settings_panel.model_changed.connect(self.models.follow)
        self.settings_panel.set_models(self.picker.names())
        self.models.models_changed.connect(
            lambda: self.settings_panel.set_models(self.picker.names())
        )
        self.sidebar.selected.connect(self._on_chat_shown)
        self.chat.answer_done.connect(lambda _stats: self._mark_answering())
        self.client.worker.started.connect(lambda _started: self._mark_answering())
        self.banner.actions = {"models": self.open_model_manager, "docs": self.docs.attach}
        self.composer.input.edit_last.connect(self.chat_view.edit_last_question)
        self.sidebar.rename_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        make_action(self, "Search", self.focus_search, keys_for("focus_search"))
        make_action(self, "Message box", self.composer.input.setFocus, keys_for("focus_input"))
        make_action(self, "Copy last answer", self.chat_view.copy_last_answer,
                    keys_for("copy_last_answer"))  # fmt: skip
        settings = make_action(self, "&Settings\u2026", self.open_settings,
                               keys_for("open_settings"))  # fmt: skip
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu = self.menuBar().actions()[0].menu()
        file_menu.insertAction(file_menu.actions()[-1], settings)

    def _on_chat_shown(self, cid: int) -> None:
        self.banner.show_for(cid if cid >= 0 else None)
        self.settings_panel.show_conversation(cid)

    def _mark_answering(self) -> None:
        """The status bar drops the last answer's figures; the sidebar marks the chat."""
        busy = self.chat.generating_id
        if busy is not None:
            self.status.clear_stats()
        if self.settings_panel.conversation_id != self.chat.shown_id:  # a send made a chat
            self._on_chat_shown(-1 if self.chat.shown_id is None else self.chat.shown_id)
        set_busy = getattr(self.sidebar, "set_busy", None)
        if set_busy is not None:
            set_busy(busy)

    def focus_search(self) -> None:
        focus = getattr(self.sidebar, "focus_search", None)
        if focus is not None:
            focus()

    def apply_theme(self) -> None:
        from app.errors import LanternError
        from app.store.settings import get_setting

        try:
            theme, size = get_setting(self.db, "ui.theme"), get_setting(self.db, "ui.font_size")
        except LanternError:
            theme, size = "system", None
        self.setStyleSheet(apply_theme(theme, size))
        if hasattr(self, "banner"):
            self.banner.restyle()

    def open_settings(self) -> None:
        from app.ui.settings_window import SettingsWindow

        window = SettingsWindow(self.db, self.writer, self.db_path.parent, self)
        window.applied.connect(self._settings_applied)
        self.settings_window = window
        window.open()

    def _settings_applied(self, changed: dict[str, Any]) -> None:
        if {"ui.theme", "ui.font_size"} & set(changed):
            self.apply_theme()
            if self.chat.shown_id is not None and not self.chat.is_generating:
                self.chat.show_conversation(self.chat.shown_id)  # items take the new colours
        if "default_model" in changed:
            self.models.refresh()
        if {"api.enabled", "api.port"} & set(changed):  # issue 14: the local API server
            values = self.settings_window.values()
            self.api_toggle.apply_settings(values["api.enabled"], values["api.port"])

    def maybe_welcome(self) -> None:
        """The first-run welcome, once (``ui.welcome_shown``)."""
        from app.errors import LanternError
        from app.store.settings import get_setting

        try:
            shown = get_setting(self.db, "ui.welcome_shown")
        except LanternError:
            return
        if not shown:
            self.show_welcome()
            self.writer.request("set_app_setting", key="ui.welcome_shown", value=True)

    def show_welcome(self) -> None:
        from app.ui.welcome import WelcomeDialog, starter_name

        dialog = self.welcome = WelcomeDialog(starter_name(self.db), self)
        dialog.open_models.connect(self.open_model_manager)
        dialog.typed.connect(self._type_into_message_box)
        dialog.open()

    def _type_into_message_box(self, text: str) -> None:
        """A key typed while the welcome was open: the message box gets it and the focus."""
        self.activateWindow()
        self.composer.input.setFocus()
        self.composer.input.insertPlainText(text)

    def _show_shortcuts(self) -> None:
        from app.ui.dialogs import fit_title

        box = QMessageBox(
            QMessageBox.Icon.Information, "Keyboard shortcuts", help_text(), parent=self
        )
        fit_title(box).open()

    def _restore_state(self) -> None:
        self.window_state = WindowState(self.db_path.parent)
        chat = self.window_state.restore(self, self.splitter)
        if chat is not None and chat in self.sidebar.ids():
            self.sidebar.select(chat)

    def save_state(self) -> None:
        self.settings_panel.save_now()
        self.window_state.save(self, self.splitter, self.chat.shown_id)

    def shutdown(self) -> None:
        """Stop the answer and downloads, free the model on its thread, wait for threads."""
        if self._models_window is not None:
            self._models_window.shutdown()
        self.docs.shutdown()
        self.sidebar.purge()  # deletes still offering Undo become final
        self.api_toggle.stop()  # issue 14: its requests run on the client's worker
        self.client.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
