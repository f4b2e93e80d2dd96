"""SessionListView: the filter, the search box, the summary line and the painted list of
session cards, with a bar of bulk actions when several cards are selected.

The view never acts on a session itself: it emits `actionRequested(sessionId, action)`
or `bulkActionRequested([sessionId, ...], action)` and the window decides (ask, enqueue,
delete, view). Keyboard: arrows move between cards, Ctrl/Shift+click, Shift+arrows and Ctrl+A
select, U/R/C/P/L/O/Delete trigger the current card's buttons (or, with several cards
selected, U/R/C/Delete act on all of them that allow it), Enter (like a double-click) opens
the session in the viewer, F2 edits the title, Ctrl+F searches, Escape clears the selection,
the menu key (or Shift+F10) opens the same actions as a menu.

Search matches every word typed (at a word start; "quoted words" as a phrase) against each
card's title, note, id and date (as shown and as ISO); the texts are built once per item, so
filtering 2,000 cards is a loop over cached strings (bench/gui.py measures it), and typing is
debounced.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.models import SessionListItem
from app.widgets.card_state import (
    ACTIONS,
    CARD_ACTIONS,
    CardAction,
    bulk_counts,
    bulk_targets,
    matches,
    search_terms,
)
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

# What the selection bar (and U/R/C/Delete on a multi-selection) can do to many sessions.
BULK_ACTIONS: tuple[CardAction, ...] = ("upload", "retry", "cancel", "delete")
SEARCH_DELAY_MS = 120



def _qt_key(text: str) -> int:
    """The Qt key of a key name of the card actions table ("U", "Del", "F2")."""
    return int(getattr(Qt.Key, "Key_" + {"Del": "Delete"}.get(text, text)))


# The keys of the card actions table, as Qt keys.
_KEY_ACTIONS: dict[int, CardAction] = {_qt_key(spec.key): spec.action for spec in CARD_ACTIONS}
_OPEN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class StatusFilterProxy(QSortFilterProxyModel):
    """The status filter and the search words, over a SessionListModel."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._statuses: frozenset[str] | None = None
        self._terms: list[str] = []

    def _change(self, apply: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateRowsFilter()

    def set_statuses(self, statuses: frozenset[str] | None) -> None:
        self._change(lambda: setattr(self, "_statuses", statuses))

    def statuses(self) -> frozenset[str] | None:
        return self._statuses

    def set_query(self, query: str) -> None:
        terms = search_terms(query)
        if terms != self._terms:
            self._change(lambda: setattr(self, "_terms", terms))

    def terms(self) -> list[str]:
        return list(self._terms)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if self._statuses is not None:
            item: SessionListItem = model.data(model.index(source_row, 0, source_parent), Role.ITEM)
            if not (("damaged" in self._statuses and item.damaged)
                    or item.upload_status in self._statuses):
                return False
        if self._terms:
            assert isinstance(model, SessionListModel)
            text = model.search_text(source_row)
            return matches(text, self._terms)
        return True


class SessionCardList(QListView):
    """The list of painted cards: button hit-testing, hover, tooltips and keyboard actions."""

    actionRequested = Signal(str, str)  # sessionId, CardAction
    bulkActionRequested = Signal(object, str)  # [sessionId, ...] (list order), CardAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card_delegate = SessionCardDelegate(self)
        self.setItemDelegate(self.card_delegate)
        self.setUniformItemSizes(True)  # every card has the same height: no per-row size queries
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Click selects one card, Ctrl+click adds or removes one, Shift+click a range, Ctrl+A all.
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
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
            # A card's own button acts on that card; it leaves a multi-selection alone.
            keep = len(self.selectionModel().selectedRows()) > 1
            flag = QItemSelectionModel.SelectionFlag
            self.selectionModel().setCurrentIndex(
                index, flag.NoUpdate if keep else flag.ClearAndSelect | flag.Rows)
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

    def selected_ids(self) -> list[str]:
        """The selected sessions, in list order."""
        rows = sorted(self.selectionModel().selectedRows(), key=lambda i: i.row())
        return [str(i.data(Role.SESSION_ID)) for i in rows]

    def selected_items(self) -> list[SessionListItem]:
        rows = sorted(self.selectionModel().selectedRows(), key=lambda i: i.row())
        return [i.data(Role.ITEM) for i in rows]

    def request_bulk(self, action: CardAction) -> None:
        ids = self.selected_ids()
        if ids:
            self.bulkActionRequested.emit(ids, action)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index, action = self._button_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid() and action is None:
            # Double-click opens the viewer (it says so itself when there is nothing to play).
            self.actionRequested.emit(str(index.data(Role.SESSION_ID)), "play")
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if event.key() in _OPEN_KEYS and index.isValid():
            self.actionRequested.emit(str(index.data(Role.SESSION_ID)), "play")
            event.accept()
            return
        action = _KEY_ACTIONS.get(event.key())
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if action and plain and action in BULK_ACTIONS and len(self.selected_ids()) > 1:
            self.request_bulk(action)
            event.accept()
            return
        if action and index.isValid() and plain:
            self._trigger(index, action)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and plain and len(self.selected_ids()) > 1:
            current = self.currentIndex()
            self.selectionModel().select(current, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                         | QItemSelectionModel.SelectionFlag.Rows)
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
        if len(self.selected_ids()) > 1 and self.selectionModel().isSelected(index):
            self.bulk_menu().exec(self.viewport().mapToGlobal(pos))
            return
        self.setCurrentIndex(index)
        menu = self.actions_menu(index)
        menu.exec(self.viewport().mapToGlobal(pos))

    def bulk_menu(self) -> QMenu:
        """The actions for every selected card, with how many of them each one applies to."""
        menu = QMenu(self)
        items = self.selected_items()
        config_valid = bool(items) and bool(self.model().index(0, 0).data(Role.CONFIG_VALID))
        counts = bulk_counts(items, BULK_ACTIONS, config_valid)
        for action in BULK_ACTIONS:
            count = counts[action]
            qaction = QAction(f"{ACTIONS[action].label} {count} of {len(items)}\t"
                              f"{ACTIONS[action].key}", menu)
            qaction.setEnabled(count > 0)
            qaction.triggered.connect(lambda _checked=False, a=action: self.request_bulk(a))
            menu.addAction(qaction)
        return menu

    def actions_menu(self, index: _Index) -> QMenu:
        menu = QMenu(self)
        buttons = self.card_delegate.buttons_for(index)
        session_id = str(index.data(Role.SESSION_ID))
        for action in ["edit", *buttons.visible_actions()]:
            qaction = QAction(f"{ACTIONS[action].label}\t{ACTIONS[action].key}", menu)
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


class SelectionBar(QFrame):
    """Shown while several cards are selected: what can be done to all of them at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("selectionBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(self)
        self.buttons: dict[CardAction, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        for action in BULK_ACTIONS:
            button = QPushButton(self)
            self.buttons[action] = button
            layout.addWidget(button)
        self.clear_button = QPushButton("Select none", self)
        self.clear_button.setToolTip("Escape")
        layout.addWidget(self.clear_button)

    def show_counts(self, selected: int, counts: dict[CardAction, int]) -> None:
        self.label.setText(f"{selected} sessions selected")
        for action, button in self.buttons.items():
            count = counts.get(action, 0)
            button.setText(f"{ACTIONS[action].label} ({count})")
            button.setEnabled(count > 0)
            button.setToolTip(f"{ACTIONS[action].label} the {count} selected session"
                              f"{'s' if count != 1 else ''} that allow it ({ACTIONS[action].key})")


class SessionListView(QWidget):
    """Filter, search, summary line, selection bar and card list over a `SessionListModel`."""

    actionRequested = Signal(str, str)
    bulkActionRequested = Signal(object, str)  # [sessionId, ...], CardAction

    def __init__(self, model: SessionListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = StatusFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.list = SessionCardList(self)
        self.list.setModel(self.proxy)
        self.list.actionRequested.connect(self.actionRequested)
        self.list.bulkActionRequested.connect(self.bulkActionRequested)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search title, note, id or date (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search sessions")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_edit.returnPressed.connect(self.apply_search)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self._focus_search)
        self.addAction(find)

        self.retry_all_button = QPushButton(self)
        self.retry_all_button.setToolTip("Retry every failed upload that can be retried")
        self.retry_all_button.clicked.connect(self._retry_all_failed)
        self.selection_bar = SelectionBar(self)
        self.selection_bar.setVisible(False)
        for action, button in self.selection_bar.buttons.items():
            button.clicked.connect(lambda _checked=False, a=action: self.list.request_bulk(a))
        self.selection_bar.clear_button.clicked.connect(self.clear_selection)
        self.no_match_label = QLabel(self)
        self.no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match_label.setVisible(False)

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
        top.addSpacing(8)
        top.addWidget(self.search_edit, 1)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary_label, 1)
        summary_row.addWidget(self.retry_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(summary_row)
        layout.addWidget(self.selection_bar)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.no_match_label)
        layout.addWidget(self.list, 1)

        model.summaryChanged.connect(self._update_summary)
        model.modelReset.connect(self._update_summary)
        self.proxy.rowsInserted.connect(self._update_summary)
        self.proxy.rowsRemoved.connect(self._update_summary)
        self.proxy.modelReset.connect(self._update_summary)
        self.proxy.layoutChanged.connect(self._update_summary)
        self._update_summary()
        # The bar's counts follow selection changes and the selected cards' states (debounced:
        # Ctrl+A on 2,000 cards or a burst of status changes costs one recount).
        self._bar_timer = QTimer(self)
        self._bar_timer.setSingleShot(True)
        self._bar_timer.setInterval(50)
        self._bar_timer.timeout.connect(self._update_selection_bar)
        self.list.selectionModel().selectionChanged.connect(self._selection_changed)
        model.dataChanged.connect(lambda *_args: self.selection_bar.isVisible()
                                  and self._bar_timer.start())

        # Pending cards count down to their next attempt: repaint just those rows each second,
        # and only while there are such cards (checked when rows change).
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick_countdowns)
        model.dataChanged.connect(lambda first, last, *_args: self._follow_countdowns(
            first.row(), last.row()))
        model.modelReset.connect(self._follow_countdowns)
        model.rowsInserted.connect(lambda _parent, first, last: self._follow_countdowns(first, last))

    def _follow_countdowns(self, first: int = 0, last: int | None = None) -> None:
        if not self._countdown.isActive() and self.model.has_countdowns(
                int(time.time() * 1000), first, last):
            self._countdown.start()

    def _tick_countdowns(self) -> None:
        now_ms = int(time.time() * 1000)
        self.model.tick_countdowns(now_ms)
        if not self.model.has_countdowns(now_ms):
            self._countdown.stop()

    def set_filter(self, position: int) -> None:
        self.filter_box.setCurrentIndex(position)

    def _filter_changed(self, position: int) -> None:
        self.proxy.set_statuses(FILTERS[position][1] if 0 <= position < len(FILTERS) else None)

    def set_search(self, query: str) -> None:
        """Type `query` into the search box and apply it now (no debounce)."""
        self.search_edit.setText(query)
        self.apply_search()

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.proxy.set_query(self.search_edit.text())

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _update_summary(self) -> None:
        summary = self.model.summary()
        text = summary.text()
        shown = self.proxy.rowCount()
        if shown != summary.total:
            text = f"{shown} shown of " + text
        self.summary_label.setText(text)
        self.retry_all_button.setText(f"Retry all failed ({summary.retryable})")
        self.retry_all_button.setVisible(summary.retryable > 0)
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        no_match = not empty and shown == 0
        if no_match:
            self.no_match_label.setText(
                f"No session matches “{self.search_edit.text().strip()}”." if self.proxy.terms()
                else "No session has this status.")
        self.no_match_label.setVisible(no_match)
        self.list.setVisible(not empty and not no_match)

    def _retry_all_failed(self) -> None:
        ids = bulk_targets(self.model.items(), "retry", self.model.config_valid)
        if ids:
            self.bulkActionRequested.emit(ids, "retry")

    def clear_selection(self) -> None:
        self.list.clearSelection()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._bar_timer.start()

    def _update_selection_bar(self) -> None:
        items = self.list.selected_items()
        if len(items) < 2:
            self.selection_bar.setVisible(False)
            return
        config_valid = self.model.config_valid
        counts = bulk_counts(items, BULK_ACTIONS, config_valid)
        self.selection_bar.show_counts(len(items), counts)
        self.selection_bar.setVisible(True)

    def select_session(self, session_id: str) -> None:
        row = self.model.row_of(session_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if index.isValid():
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)
