"""Search over 2,000 sessions, multi-selection and the bulk actions, with the real queue
against moto's S3 server for Retry."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from app.models import UPLOAD_STATUSES, SessionListItem, UploadStatus
from app.widgets.session_list import SessionListView
from app.widgets.session_model import SessionListModel
from tests.factories import make_session
from tests.ui.conftest import AppFactory
from tests.ui.helpers import close_app, status_of
from tests.ui.test_main_window import open_window

NOW = int(time.time() * 1000)
DAY = 86_400_000


def synthetic_items(count: int) -> list[SessionListItem]:
    """`count` list items as the listing would return them: every 7th has a title, every 50th a
    note mentioning 'invoice', one per day going back."""
    items = []
    for i in range(count):
        created = NOW - i * DAY // 4
        session_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime(created / 1000)) + f"-{i % 1000:03d}-{i:06x}"
        items.append(SessionListItem(
            session_id=session_id, created_at=created, is_exported=True,
            upload_status=UPLOAD_STATUSES[i % len(UPLOAD_STATUSES)],
            title=f"Checkout case n{i}" if i % 7 == 0 else None,
            note="customer sent an invoice screenshot" if i % 50 == 0 else None,
            file_size_bytes=1000))
    return items


def make_view(qtbot: QtBot, items: list[SessionListItem]) -> SessionListView:
    model = SessionListModel()
    model.set_config_valid(True)
    model.set_items(items)
    view = SessionListView(model)
    qtbot.addWidget(view)
    view.resize(900, 800)
    view.show()
    qtbot.waitExposed(view)
    return view


def shown_ids(view: SessionListView) -> list[str]:
    proxy = view.proxy
    return [str(proxy.index(r, 0).data(0x0100 + 4)) for r in range(proxy.rowCount())]


def test_search_narrows_2000_sessions(qtbot: QtBot) -> None:
    items = synthetic_items(2000)
    view = make_view(qtbot, items)
    assert view.proxy.rowCount() == 2000
    # Typed, debounced: by title words in any order, case-insensitively.
    qtbot.keyClicks(view.search_edit, "CASE checkout N14")
    qtbot.waitUntil(lambda: view.proxy.rowCount() < 2000, timeout=5000)
    expected = [i.session_id for i in items if i.title and "n14" in i.title]
    assert shown_ids(view) == expected and 0 < len(expected) < 100
    assert view.summary_label.text().startswith(f"{len(expected)} shown of 2000 sessions")
    # By a word of the note.
    view.set_search("invoice")
    assert view.proxy.rowCount() == 40
    # By id (part of it) and by date, ISO or as the card shows it.
    target = items[1234]
    view.set_search(target.session_id)
    assert shown_ids(view) == [target.session_id]
    view.set_search(target.session_id[-6:])  # its random part alone
    assert shown_ids(view) == [target.session_id]
    day = time.strftime("%Y-%m-%d", time.localtime(target.created_at / 1000))
    view.set_search(day)
    assert target.session_id in shown_ids(view) and view.proxy.rowCount() <= 4
    view.set_search('"' + time.strftime("%d %b %Y", time.localtime(target.created_at / 1000)) + '"')
    assert target.session_id in shown_ids(view) and view.proxy.rowCount() <= 4
    # Search and status filter combine; nothing found says so.
    view.set_search("checkout")
    view.set_filter(4)  # Failed
    assert shown_ids(view) == [i.session_id for i in items
                               if i.title and i.upload_status == "failed"]
    view.set_search("no such words anywhere")
    assert view.proxy.rowCount() == 0 and view.no_match_label.isVisible()
    assert "No session matches" in view.no_match_label.text()
    view.set_filter(0)
    view.search_edit.clear()
    view.apply_search()
    assert view.proxy.rowCount() == 2000 and not view.no_match_label.isVisible()


def test_search_follows_a_new_title(qtbot: QtBot) -> None:
    import dataclasses

    items = synthetic_items(20)
    view = make_view(qtbot, items)
    view.set_search("renamed")
    assert view.proxy.rowCount() == 0
    view.model.upsert(dataclasses.replace(items[3], title="Renamed later"))
    assert shown_ids(view) == [items[3].session_id]


def card_point(view: SessionListView, session_id: str) -> QPoint:
    row = view.model.row_of(session_id)
    assert row is not None
    index = view.proxy.mapFromSource(view.model.index(row))
    view.list.scrollTo(index)
    rect = view.list.visualRect(index)
    return QPoint(rect.left() + rect.width() // 3, rect.top() + rect.height() // 2)


def ctrl_click(qtbot: QtBot, view: SessionListView, session_id: str) -> None:
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, card_point(view, session_id))


def test_selection_bar_counts_what_each_action_applies_to(qtbot: QtBot) -> None:
    items = synthetic_items(10)  # statuses cycle: not_uploaded, pending, uploading, done, failed
    view = make_view(qtbot, items)
    requests: list[tuple[list[str], str]] = []
    view.bulkActionRequested.connect(lambda ids, action: requests.append((ids, action)))
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=card_point(view, items[0].session_id))
    assert not view.selection_bar.isVisible()  # one card: its own buttons do it
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, card_point(view, items[4].session_id))
    qtbot.waitUntil(view.selection_bar.isVisible, timeout=2000)
    bar = view.selection_bar
    assert bar.label.text() == "5 sessions selected"
    assert bar.buttons["upload"].text() == "Upload (1)" and bar.buttons["retry"].text() == "Retry (1)"
    assert bar.buttons["cancel"].text() == "Cancel (2)" and bar.buttons["delete"].text() == "Delete (3)"
    bar.buttons["cancel"].click()
    assert requests == [([i.session_id for i in items[:5]], "cancel")]

    view.list.setFocus()
    qtbot.keyClick(view.list, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bar.label.text() == "10 sessions selected", timeout=2000)
    qtbot.keyClick(view.list, Qt.Key.Key_U)  # a key acts on the whole selection
    assert requests[-1] == ([i.session_id for i in items], "upload")
    menu = view.list.bulk_menu()
    assert [a.text().split("\t")[0] for a in menu.actions()] == [
        "Upload 2 of 10", "Retry 2 of 10", "Cancel 4 of 10", "Delete 6 of 10"]
    qtbot.keyClick(view.list, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=2000)
    assert len(view.list.selected_ids()) == 1


@pytest.mark.slow
def test_three_failed_sessions_selected_and_retried_are_all_queued(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], app_factory: AppFactory) -> None:
    s3_config()
    failed = [make_session(data_dir, NOW - i * 60_000, status="failed", zip_bytes=32 * 1024)
              for i in range(3)]
    other_statuses: tuple[UploadStatus, ...] = ("done", "failed", "not_uploaded")
    others = [make_session(data_dir, NOW - (10 + i) * 60_000, status=status)
              for i, status in enumerate(other_statuses)]
    window, services = app_factory(data_dir)
    try:
        view = window.session_view
        qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=card_point(view, failed[0]))
        for session_id in failed[1:]:
            ctrl_click(qtbot, view, session_id)
        qtbot.waitUntil(view.selection_bar.isVisible, timeout=2000)
        assert view.selection_bar.buttons["retry"].text() == "Retry (3)"
        statuses: list[tuple[str, str]] = []
        window.queue.statusChanged.connect(
            lambda report: statuses.append((report.session_id, report.status)))
        view.selection_bar.buttons["retry"].click()
        qtbot.waitUntil(lambda: "3 sessions queued again." in window.statusBar().currentMessage(),
                        timeout=10_000)
        qtbot.waitUntil(lambda: all(status_of(window, s) == "done" for s in failed), timeout=30_000)
        for session_id in failed:
            assert (session_id, "pending") in statuses
        assert status_of(window, others[1]) == "failed"  # not selected: untouched
        # "Retry all failed" in the summary line takes the one left.
        assert view.retry_all_button.isVisible() and view.retry_all_button.text().endswith("(1)")
        view.retry_all_button.click()
        qtbot.waitUntil(lambda: status_of(window, others[1]) == "done", timeout=30_000)
        qtbot.waitUntil(lambda: not view.retry_all_button.isVisible(), timeout=5000)
    finally:
        close_app(window, services)


def test_bulk_delete_asks_once_more_for_unsent_sessions(qtbot: QtBot, data_dir: Path) -> None:
    statuses: tuple[UploadStatus, ...] = ("done", "not_uploaded", "pending")
    ids = [make_session(data_dir, NOW - i * 60_000, status=status)
           for i, status in enumerate(statuses)]
    window = open_window(qtbot, data_dir)  # no queue: the pending one stays pending
    asked: list[str] = []
    window.confirm = lambda title, _text: asked.append(title) is None  # type: ignore[func-returns-value]
    window.on_bulk_action(ids, "delete")
    qtbot.waitUntil(lambda: window.model.item(ids[0]) is None and window.model.item(ids[1]) is None,
                    timeout=10_000)
    assert asked == ["Delete sessions?", "Some sessions were never uploaded"]
    assert window.model.item(ids[2]) is not None  # pending: Cancel first, never deleted
    assert (data_dir / "sessions" / ids[2]).is_dir()
    assert not (data_dir / "sessions" / ids[0]).exists()
    assert "Deleted 2 sessions" in window.statusBar().currentMessage()

    asked.clear()
    def refuse(title: str, _text: str) -> bool:
        asked.append(title)
        return False

    window.confirm = refuse
    window.on_bulk_action([ids[2]], "delete")
    assert asked == [] and "This session cannot be deleted now" in window.statusBar().currentMessage()
