"""The session list as a Qt model: one row per session, newest first.

A progress update keeps the queue's `Progress` record for one session and emits
`dataChanged` for that single row, so the view repaints one card and nothing else; a
status update applies the queue's `StatusReport` to the row, without reading the disk.
The full list is read off the GUI thread (the window's executor) and merged here: when
the set of sessions is unchanged only the rows that differ are signalled.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from app.format import human_size
from app.models import SessionListItem
from app.upload.queue.status_report import RecordReport, StatusReport
from app.upload.session.progress import Progress
from app.widgets.card_state import card_buttons, search_text, status_badge
from app.widgets.thumbnails import ThumbnailCache

_Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    ITEM = Qt.ItemDataRole.UserRole + 1
    LIVE = Qt.ItemDataRole.UserRole + 2
    STATUS = Qt.ItemDataRole.UserRole + 3
    SESSION_ID = Qt.ItemDataRole.UserRole + 4
    CONFIG_VALID = Qt.ItemDataRole.UserRole + 5
    NOTE = Qt.ItemDataRole.UserRole + 6
    THUMBNAIL = Qt.ItemDataRole.UserRole + 7


def _sort_key(item: SessionListItem) -> tuple[int, str]:
    # Negated so that ascending (bisect) order is newest first.
    return (-item.created_at, item.session_id)


@dataclass(frozen=True)
class Summary:
    total: int = 0
    not_uploaded: int = 0
    pending: int = 0
    uploading: int = 0
    done: int = 0
    failed: int = 0
    damaged: int = 0
    total_bytes: int = 0
    retryable: int = 0  # failed, exported and not damaged: what "Retry all failed" retries

    def text(self) -> str:
        parts = [f"{self.total} session{'s' if self.total != 1 else ''}"]
        for count, label in ((self.pending, "pending"), (self.uploading, "uploading"),
                             (self.failed, "failed"), (self.not_uploaded, "not uploaded"),
                             (self.done, "uploaded"), (self.damaged, "damaged")):
            if count:
                parts.append(f"{count} {label}")
        parts.append(f"{human_size(self.total_bytes)} total")
        return " · ".join(parts)


class SessionListModel(QAbstractListModel):
    summaryChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[SessionListItem] = []
        self._keys: list[tuple[int, str]] = []
        self._row_of: dict[str, int] = {}
        self._live: dict[str, Progress] = {}
        # Transient words the window puts on a card ("Exporting…", "Deleting…"); not on disk.
        self._notes: dict[str, str] = {}
        self._config_valid = False
        self._summary = Summary()
        # sessionId -> (the item it was made from, its search text); rebuilt when the item changes.
        self._search: dict[str, tuple[SessionListItem, str]] = {}
        self._thumbnails: ThumbnailCache | None = None

    def set_thumbnails(self, cache: ThumbnailCache | None) -> None:
        """Cards show pictures from `cache` (None: no pictures); each arriving picture repaints its
        one card."""
        if self._thumbnails is not None:
            self._thumbnails.ready.disconnect(self._thumbnail_ready)
        self._thumbnails = cache
        if cache is not None:
            cache.ready.connect(self._thumbnail_ready)

    def _thumbnail_ready(self, session_id: str) -> None:
        row = self._row_of.get(session_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Role.THUMBNAIL])

    # --- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Role.ITEM:
            return item
        if role == Role.LIVE:
            return self._live.get(item.session_id)
        if role == Role.STATUS:
            return item.upload_status
        if role == Role.SESSION_ID:
            return item.session_id
        if role == Role.CONFIG_VALID:
            return self._config_valid
        if role == Role.NOTE:
            return self._notes.get(item.session_id)
        if role == Role.THUMBNAIL:
            return self._thumbnails.get(item) if self._thumbnails is not None else None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._accessible_text(item)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # --- updates ------------------------------------------------------------------------------
    def items(self) -> list[SessionListItem]:
        return list(self._items)

    def item(self, session_id: str) -> SessionListItem | None:
        row = self._row_of.get(session_id)
        return None if row is None else self._items[row]

    def row_of(self, session_id: str) -> int | None:
        return self._row_of.get(session_id)

    def search_text(self, row: int) -> str:
        """The case-folded text the search box looks in (cached per item)."""
        item = self._items[row]
        cached = self._search.get(item.session_id)
        if cached is None or cached[0] is not item:
            cached = (item, search_text(item))
            self._search[item.session_id] = cached
        return cached[1]

    def live(self, session_id: str) -> Progress | None:
        return self._live.get(session_id)

    @property
    def config_valid(self) -> bool:
        return self._config_valid

    def set_items(self, items: list[SessionListItem],
                  search_texts: dict[str, str] | None = None) -> None:
        """Replace the list; rows whose session set and order are unchanged get per-row signals.
        `search_texts` are the items' `search_text`s when the caller made them already."""
        items = sorted(items, key=_sort_key)
        for item in items:
            text = (search_texts or {}).get(item.session_id)
            if text is not None:
                self._search[item.session_id] = (item, text)
        if [i.session_id for i in items] == [i.session_id for i in self._items]:
            for row, new in enumerate(items):
                if new != self._items[row]:
                    self._items[row] = new
                    self._emit_row(row)
        else:
            self.beginResetModel()
            self._items = items
            self._reindex()
            known = set(self._row_of)
            self._live = {k: v for k, v in self._live.items() if k in known}
            self._search = {k: v for k, v in self._search.items() if k in known}
            self.endResetModel()
        self._update_summary()

    def upsert(self, item: SessionListItem) -> None:
        """Add one session or replace its row (one dataChanged, or one insert)."""
        row = self._row_of.get(item.session_id)
        if row is not None and _sort_key(self._items[row]) == _sort_key(item):
            if self._items[row] != item:
                self._items[row] = item
                if item.upload_status not in ("uploading", "pending"):
                    self._live.pop(item.session_id, None)
                self._emit_row(row)
                self._update_summary()
            return
        if row is not None:
            self.remove(item.session_id)
        key = _sort_key(item)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.insert(row, item)
        self._reindex()
        self.endInsertRows()
        self._update_summary()

    def remove(self, session_id: str) -> None:
        row = self._row_of.get(session_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._items[row]
        self._live.pop(session_id, None)
        self._reindex()
        self.endRemoveRows()
        self._update_summary()

    def set_progress(self, session_id: str, progress: Progress) -> None:
        """A progress signal: touches exactly one row."""
        row = self._row_of.get(session_id)
        if row is None:
            return
        self._live[session_id] = progress
        self._emit_row(row)

    def apply_status(self, report: StatusReport) -> SessionListItem | None:
        """A status report of the queue: the row takes the new upload state (one dataChanged);
        the updated item, or None when the session is not listed."""
        item = self.item(report.session_id)
        if item is None:
            return None
        updated = report.applied_to(item)
        self.upsert(updated)
        return updated

    def apply_record(self, report: RecordReport) -> None:
        """A file-record report: the row takes where its record stands (one dataChanged)."""
        item = self.item(report.session_id)
        if item is not None:
            self.upsert(report.applied_to(item))

    def has_countdowns(self, now_ms: int, first: int = 0, last: int | None = None) -> bool:
        """Some card (of rows first..last) counts down to its next attempt (the list repaints
        those each second)."""
        rows = self._items[first:None if last is None else last + 1]
        return any(item.upload_status == "pending" and item.next_attempt_at is not None
                   and item.next_attempt_at > now_ms - 1000 for item in rows)

    def set_note(self, session_id: str, note: str | None) -> None:
        if note is None:
            self._notes.pop(session_id, None)
        else:
            self._notes[session_id] = note
        row = self._row_of.get(session_id)
        if row is not None:
            self._emit_row(row)

    def note(self, session_id: str) -> str | None:
        return self._notes.get(session_id)

    def set_config_valid(self, valid: bool) -> None:
        if valid == self._config_valid:
            return
        self._config_valid = valid
        if self._items:
            self.dataChanged.emit(self.index(0), self.index(len(self._items) - 1), [Role.CONFIG_VALID])

    def tick_countdowns(self, now_ms: int) -> None:
        """Repaint the pending cards whose badge shows a retry countdown."""
        for row, item in enumerate(self._items):
            if item.upload_status == "pending" and item.next_attempt_at is not None \
                    and item.next_attempt_at > now_ms - 1000:
                self._emit_row(row)

    def summary(self) -> Summary:
        return self._summary

    # --- internals ----------------------------------------------------------------------------
    def _emit_row(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _reindex(self) -> None:
        self._keys = [_sort_key(i) for i in self._items]
        self._row_of = {item.session_id: row for row, item in enumerate(self._items)}

    def _update_summary(self) -> None:
        counts = {"not_uploaded": 0, "pending": 0, "uploading": 0, "done": 0, "failed": 0}
        damaged = 0
        size = 0
        retryable = 0
        for item in self._items:
            counts[item.upload_status] += 1
            damaged += item.damaged
            size += item.file_size_bytes or 0
            retryable += item.upload_status == "failed" and item.is_exported and not item.damaged
        summary = Summary(total=len(self._items), damaged=damaged, total_bytes=size,
                          retryable=retryable, **counts)
        if summary != self._summary:
            self._summary = summary
            self.summaryChanged.emit()

    def _accessible_text(self, item: SessionListItem) -> str:
        badge = status_badge(item)
        text = f"Session {item.session_id}, {badge.text}"
        if item.damaged:
            text += f", damaged: {item.damaged_reason}"
        if item.upload_status == "failed" and item.last_upload_error:
            text += f", {item.last_upload_error}"
        buttons = card_buttons(item, self._config_valid)
        if buttons.upload:
            text += ", press U to upload"
        return text
