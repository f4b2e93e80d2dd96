"""SessionListView: the filter, the summary line and the painted list of session cards.

The view never acts on a session itself: it emits `actionRequested(sessionId,
action)` and the window decides (ask, enqueue, delete). Keyboard: arrows move
between cards, U/R/C/O/Delete trigger the current card's buttons, the menu key
(or Shift+F10) opens the same actions as a menu.
"""

from __future__ import annotations

import time

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QContextMenuEvent, QHelpEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.models import SessionListItem
from app.widgets.card_state import ACTION_KEYS, ACTION_LABELS, CardAction
from app.widgets.session_card import SessionCardDelegate
from app.widgets.session_model import Role, SessionListModel

_Index = QModelIndex | QPersistentModelIndex

# Filter choices: label -> statuses shown ("damaged" is a pseudo-status).
FILTERS: list[tuple[str, frozenset[str] | None]] = [
    ("All sessions", None),
    ("Not uploaded", frozenset({"not_uploaded"})),
    ("Pending or uploading", frozenset({"pending", "uploading"})),
    ("Uploaded", frozenset({"done"})),
    ("Failed", frozenset({"failed"})),
    ("Damaged", frozenset({"damaged"})),
]

_KEY_ACTIONS: dict[int, CardAction] = {
    Qt.Key.Key_U: "upload",
    Qt.Key.Key_R: "retry",
    Qt.Key.Key_C: "cancel",
    Qt.Key.Key_O: "open_folder",
    Qt.Key.Key_Delete: "delete",
    Qt.Key.Key_F2: "edit",
}


class StatusFilterProxy(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._statuses: frozenset[str] | None = None

    def set_statuses(self, statuses: frozenset[str] | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self._statuses = statuses
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._statuses = statuses
            self.invalidateRowsFilter()

    def statuses(self) -> frozenset[str] | None:
        return self._statuses

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if self._statuses is None:
            return True
        model = self.sourceModel()
        item: SessionListItem = model.data(model.index(source_row, 0, source_parent), Role.ITEM)
        if "damaged" in self._statuses and item.damaged:
            return True
        return item.upload_status in self._statuses


class SessionCardList(QListView):
    """The list of painted cards: button hit-testing, hover, tooltips and keyboard actions."""

    actionRequested = Signal(str, str)  # sessionId, CardAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card_delegate = SessionCardDelegate(self)
        self.setItemDelegate(self.card_delegate)
        self.setUniformItemSizes(True)  # every card has the same height: no per-row size queries
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.setSpacing(0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setAccessibleName("Sessions")
        self.verticalScrollBar().setSingleStep(24)

    def _button_at(self, pos: QPoint) -> tuple[QModelIndex, CardAction | None]:
        index = self.indexAt(pos)
        if not index.isValid():
            return index, None
        action = self.card_delegate.hit_test(self.visualRect(index), self.font(), index, pos)
        return index, action

    def _set_hover(self, value: tuple[int, CardAction] | None, index: QModelIndex) -> None:
        if self.card_delegate.hovered != value:
            old = self.card_delegate.hovered
            self.card_delegate.hovered = value
            if old is not None:
                self.viewport().update(self.visualRect(self.model().index(old[0], 0)))
            if index.isValid():
                self.viewport().update(self.visualRect(index))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index, action = self._button_at(event.position().toPoint())
        self._set_hover((index.row(), action) if action else None, index)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._set_hover(None, QModelIndex())
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index, action = self._button_at(event.position().toPoint())
        if action and event.button() == Qt.MouseButton.LeftButton \
                and self.card_delegate.buttons_for(index).enabled(action):
            self.card_delegate.pressed = (index.row(), action)
            self.setCurrentIndex(index)
            self.viewport().update(self.visualRect(index))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed = self.card_delegate.pressed
        if pressed is not None:
            self.card_delegate.pressed = None
            index, action = self._button_at(event.position().toPoint())
            self.viewport().update(self.visualRect(index))
            if index.isValid() and (index.row(), action) == pressed and action:
                self._trigger(index, action)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = _KEY_ACTIONS.get(event.key())
        index = self.currentIndex()
        if action and index.isValid() and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._trigger(index, action)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        pos = event.pos()
        index = self.indexAt(pos)
        if not index.isValid():
            index = self.currentIndex()
            pos = self.visualRect(index).center() if index.isValid() else pos
        if not index.isValid():
            return
        self.setCurrentIndex(index)
        menu = self.actions_menu(index)
        menu.exec(self.viewport().mapToGlobal(pos))

    def actions_menu(self, index: _Index) -> QMenu:
        menu = QMenu(self)
        buttons = self.card_delegate.buttons_for(index)
        session_id = str(index.data(Role.SESSION_ID))
        for action in ["edit", *buttons.visible_actions()]:
            qaction = QAction(f"{ACTION_LABELS[action]}\t{ACTION_KEYS[action]}", menu)
            qaction.setEnabled(buttons.enabled(action))
            qaction.triggered.connect(
                lambda _checked=False, a=action: self.actionRequested.emit(session_id, a))
            menu.addAction(qaction)
        return menu

    def _trigger(self, index: _Index, action: CardAction) -> None:
        if self.card_delegate.buttons_for(index).enabled(action):
            self.actionRequested.emit(str(index.data(Role.SESSION_ID)), action)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event = QHelpEvent(event.type(), QHelpEvent.pos(event),  # type: ignore[arg-type]
                                    QHelpEvent.globalPos(event))  # type: ignore[arg-type]
            index, action = self._button_at(help_event.pos())
            if index.isValid():
                QToolTip.showText(help_event.globalPos(), self.card_delegate.tooltip(index, action),
                                  self.viewport(), self.visualRect(index))
                return True
        return super().viewportEvent(event)


class SessionListView(QWidget):
    """Filter, summary line and card list over a `SessionListModel`."""

    actionRequested = Signal(str, str)

    def __init__(self, model: SessionListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = StatusFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.list = SessionCardList(self)
        self.list.setModel(self.proxy)
        self.list.actionRequested.connect(self.actionRequested)

        self.filter_box = QComboBox(self)
        for label, _statuses in FILTERS:
            self.filter_box.addItem(label)
        self.filter_box.setAccessibleName("Show")
        self.filter_box.currentIndexChanged.connect(self._filter_changed)
        filter_label = QLabel("&Show:", self)
        filter_label.setBuddy(self.filter_box)
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("summary")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                                   | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_label = QLabel("No sessions yet. Record one from the Recording view.", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter_box)
        top.addSpacing(12)
        top.addWidget(self.summary_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.list, 1)

        model.summaryChanged.connect(self._update_summary)
        model.modelReset.connect(self._update_summary)
        self._update_summary()

        # Pending cards count down to their next attempt: repaint just those rows each second.
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(lambda: model.tick_countdowns(int(time.time() * 1000)))
        self._countdown.start()

    def set_filter(self, position: int) -> None:
        self.filter_box.setCurrentIndex(position)

    def _filter_changed(self, position: int) -> None:
        self.proxy.set_statuses(FILTERS[position][1] if 0 <= position < len(FILTERS) else None)

    def _update_summary(self) -> None:
        self.summary_label.setText(self.model.summary().text())
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.list.setVisible(not empty)

    def select_session(self, session_id: str) -> None:
        row = self.model.row_of(session_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if index.isValid():
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)
