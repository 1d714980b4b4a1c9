"""Usage dashboard: tokens and cloud cost avoided per month (chart), per conversation
(table), and the price table they are computed with (editable).

The window reads the store on the GUI thread (``app.chat.costs``); every change (a price
added, edited, deleted, the comparison model) goes to the worker through the
``StoreWriter`` and the dashboard refreshes when it is done. A refused value (a
``PriceError`` from ``app.chat.costs.save_price``) is shown under the form, and the form
keeps what was typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.chat import costs
from app.ui.store_writer import StoreWriter
from app.ui.tones import set_tone
from app.ui.usage_chart import UsageChart

CONVERSATION_COLUMNS = ("Conversation", "Answers", "Tokens in", "Tokens out", "Cost avoided")
PRICE_COLUMNS = ("Cloud model", "Input $/M", "Output $/M", "As of", "Note")


def _item(text: str, number: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if not number:
        item.setToolTip(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if number:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(columns: tuple[str, ...], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setWordWrap(False)  # long titles and notes are elided; the tooltip has them
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(columns)):
        table.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


class PriceEditor(QGroupBox):
    """The price table and a form to add, change or delete an entry."""

    changed = Signal()  # a change was saved

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__("Cloud prices (US dollars per million tokens)", parent)
        self.db, self.writer = db, writer
        self._editing: str | None = None  # the entry the form changes; None: a new one
        self.table = _table(PRICE_COLUMNS, self)
        self.table.itemSelectionChanged.connect(self._selected)
        self.name = QLineEdit(self)
        self.input_price = QLineEdit(self)
        self.output_price = QLineEdit(self)
        self.as_of = QLineEdit(self)
        self.as_of.setPlaceholderText("YYYY-MM-DD")
        self.note = QLineEdit(self)
        self.input_price.setPlaceholderText("e.g. 2.50")
        self.output_price.setPlaceholderText("e.g. 10.00")
        self.error = QLabel("", self)
        self.error.setObjectName("priceError")
        self.error.setWordWrap(True)
        set_tone(self.error, "error")
        self.save_button = QPushButton("Save", self)
        self.new_button = QPushButton("New", self)
        self.delete_button = QPushButton("Delete", self)
        self.compare_button = QPushButton("Compare with this", self)
        self.save_button.clicked.connect(self.save)
        self.new_button.clicked.connect(self.start_new)
        self.delete_button.clicked.connect(self.delete)
        self.compare_button.clicked.connect(self.compare)
        self._layout()
        self.start_new()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Cloud model", self.name)
        prices = QHBoxLayout()
        prices.addWidget(QLabel("input", self))
        prices.addWidget(self.input_price)
        prices.addWidget(QLabel("output", self))
        prices.addWidget(self.output_price)
        form.addRow("$ per million", prices)
        form.addRow("Price as of", self.as_of)
        form.addRow("Note", self.note)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.new_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.compare_button)
        column = QVBoxLayout(self)
        column.addWidget(self.table, 1)
        column.addLayout(form)
        column.addWidget(self.error)
        column.addLayout(buttons)

    def refresh(self) -> None:
        rows = costs.prices(self.db)
        chosen = costs.comparison_price(self.db)
        self.table.setRowCount(len(rows))
        for r, price in enumerate(rows):
            mark = " \u2713" if chosen is not None and price.name == chosen.name else ""
            name = _item(price.name + mark)
            name.setData(Qt.ItemDataRole.UserRole, price.name)
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, _item(f"{price.input_per_million:.2f}", True))
            self.table.setItem(r, 2, _item(f"{price.output_per_million:.2f}", True))
            self.table.setItem(r, 3, _item(price.as_of or ""))
            self.table.setItem(r, 4, _item(price.note or ""))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(PRICE_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self._update_buttons()

    def select(self, name: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == name:
                self.table.selectRow(r)
                return

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        name = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        price = next((p for p in costs.prices(self.db) if p.name == name), None)
        if price is None:
            return
        self._editing = price.name
        self.name.setText(price.name)
        self.input_price.setText(f"{price.input_per_million:g}")
        self.output_price.setText(f"{price.output_per_million:g}")
        self.as_of.setText(price.as_of or "")
        self.note.setText(price.note or "")
        self.error.clear()
        self._update_buttons()

    def start_new(self) -> None:
        """Empty the form for a new entry."""
        self.table.clearSelection()
        self._editing = None
        for field in (self.name, self.input_price, self.output_price, self.as_of, self.note):
            field.clear()
        self.error.clear()
        self._update_buttons()
        self.name.setFocus()

    def _update_buttons(self) -> None:
        editing = self._editing is not None
        self.save_button.setText("Save changes" if editing else "Add")
        self.delete_button.setEnabled(editing)
        self.compare_button.setEnabled(editing)

    def save(self) -> None:
        self.error.clear()
        self.writer.request(
            "save_price",
            self._saved,
            self.error.setText,
            name=self.name.text(),
            input_per_million=self.input_price.text(),
            output_per_million=self.output_price.text(),
            as_of=self.as_of.text(),
            note=self.note.text(),
            old_name=self._editing,
        )

    def _saved(self, price: costs.Price) -> None:
        self.refresh()
        self.select(price.name)
        self.changed.emit()

    def delete(self) -> None:
        if self._editing is not None:
            self.writer.request(
                "remove_price", self._deleted, self.error.setText, name=self._editing
            )

    def _deleted(self, _name: str) -> None:
        self.refresh()
        self.start_new()
        self.changed.emit()

    def compare(self) -> None:
        if self._editing is not None:
            self.writer.request(
                "set_comparison", self._saved, self.error.setText, name=self._editing
            )


class UsageDashboard(QDialog):
    """Per-month chart, per-conversation totals and the price table, non-modal."""

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Usage \u2014 Lantern")
        self.resize(1040, 780)
        self.db = db
        self.summary = QLabel("", self)
        self.summary.setObjectName("usageSummary")
        self.summary.setWordWrap(True)
        self.chart = UsageChart(self)
        self.conversations = _table(CONVERSATION_COLUMNS, self)
        self.prices = PriceEditor(db, writer, self)
        self.prices.changed.connect(self.refresh)

        totals = QGroupBox("Per conversation", self)
        QVBoxLayout(totals).addWidget(self.conversations)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(totals)
        lower.addWidget(self.prices)
        lower.setSizes([480, 500])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart, 2)
        layout.addWidget(lower, 3)
        self.refresh()

    def refresh(self) -> None:
        """Read the totals and prices again (after an answer, or a price change)."""
        price = costs.comparison_price(self.db)
        months = costs.per_month(self.db, price)
        self.chart.set_months(months)
        self.prices.refresh()
        by_conv = costs.per_conversation(self.db, price)
        self.conversations.setRowCount(len(by_conv))
        for r, total in enumerate(by_conv):
            self.conversations.setItem(r, 0, _item(total.label))
            self.conversations.setItem(r, 1, _item(str(total.answers), True))
            self.conversations.setItem(r, 2, _item(f"{total.prompt_tokens:,}", True))
            self.conversations.setItem(r, 3, _item(f"{total.completion_tokens:,}", True))
            self.conversations.setItem(r, 4, _item(costs.format_cost(total.cost_avoided), True))
        self.summary.setText(self._summary(price, months))

    @staticmethod
    def _summary(price: costs.Price | None, months: list[costs.UsageTotal]) -> str:
        if price is None:
            return "The price table is empty: add a cloud model's prices to see the cost avoided."
        answers = sum(m.answers for m in months)
        tokens = sum(m.tokens for m in months)
        saved = sum(m.cost_avoided or 0.0 for m in months)
        dated = f", prices as of {price.as_of}" if price.as_of else ""
        return (
            f"{answers:,} answers, {tokens:,} tokens computed on this machine. "
            f"The same with {price.name} ({price.input_per_million:g} $/M in, "
            f"{price.output_per_million:g} $/M out{dated}) would have cost "
            f"{costs.format_cost(saved)}. Prices are examples: edit them below."
        )

    def present(self) -> None:
        self.refresh()
        self.show()
        self.raise_()
        self.activateWindow()
