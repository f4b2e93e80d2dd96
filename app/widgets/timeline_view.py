"""The action timeline beside the video: a table of rows (time, what happened).

The row of the moment on screen is highlighted as the video plays (`set_current_row`, which
never counts as a click); clicking a row, or Enter on it, asks the viewer to seek to its frame
(`rowActivated`). Rows after the end of a recovered session's video are greyed and say so.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.playback.timeline import TimelineRow, format_session_time

_Index = QModelIndex | QPersistentModelIndex
AFTER_VIDEO = "after the end of the video"
KIND_LABELS = {"click": "Click", "scroll": "Scroll", "keys": "Keys", "pause": "Pause"}


class TimelineModel(QAbstractTableModel):
    COLUMNS = ("Time", "Action")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[TimelineRow] = []
        self.current: int | None = None

    def set_rows(self, rows: list[TimelineRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.current = None
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    @staticmethod
    def row_text(row: TimelineRow) -> str:
        return f"{row.text} — {AFTER_VIDEO}" if row.after_video else row.text

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_session_time(row.t_ms) if index.column() == 0 else self.row_text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{KIND_LABELS[row.kind]} at {format_session_time(row.t_ms)}", self.row_text(row)]
            if row.lines:
                lines.append(f"actions.jsonl line{'s' if len(row.lines) > 1 else ''} "
                             f"{', '.join(str(n + 1) for n in row.lines[:8])}"
                             f"{'…' if len(row.lines) > 8 else ''}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{format_session_time(row.t_ms)}, {self.row_text(row)}"
        if role == Qt.ItemDataRole.ForegroundRole and row.after_video:
            return QBrush(QPalette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        if role == Qt.ItemDataRole.FontRole and (row.after_video or row.kind == "pause"):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class TimelineView(QTableView):
    rowActivated = Signal(int)  # a person picked this row (click or Enter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline_model = TimelineModel(self)
        self.setModel(self.timeline_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setAccessibleName("Action timeline")
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.clicked.connect(lambda index: self.rowActivated.emit(index.row()))
        self.activated.connect(lambda index: self.rowActivated.emit(index.row()))

    def set_rows(self, rows: list[TimelineRow]) -> None:
        self.timeline_model.set_rows(rows)

    def current_row(self) -> int | None:
        return self.timeline_model.current

    def set_current_row(self, row: int | None) -> None:
        """Highlight the row of the moment on screen (not a click: no seek follows)."""
        model = self.timeline_model
        if row == model.current:
            return
        model.current = row
        selection = self.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = model.index(row, 0)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
