"""The session list model, filter, summary and the painted cards' buttons, driven with pytest-qt."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt
from pytestqt.qtbot import QtBot

from app.models import UPLOAD_STATUSES
from app.sessions import list_sessions, read_list_item, session_paths
from app.upload.session.progress import Progress
from app.widgets.session_list import FILTERS, SessionListView
from app.widgets.session_model import Role, SessionListModel
from tests.factories import make_session
from tests.ui.helpers import button_centre

NOW = int(time.time() * 1000)


def one_of_each(data_dir: Path) -> dict[str, str]:
    ids: dict[str, str] = {status: make_session(data_dir, NOW - i * 60_000, status=status)
           for i, status in enumerate(UPLOAD_STATUSES)}
    ids["damaged"] = make_session(data_dir, NOW - 3_600_000)
    session_paths(data_dir, ids["damaged"]).meta.write_text("{not json")
    return ids


def make_view(qtbot: QtBot, data_dir: Path, config_valid: bool = True) -> SessionListView:
    model = SessionListModel()
    model.set_config_valid(config_valid)
    model.set_items(list_sessions(data_dir))
    view = SessionListView(model)
    qtbot.addWidget(view)
    view.resize(800, 900)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_newest_first_damaged_shown_and_summary(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    model = view.model
    assert [model.data(model.index(r), Role.SESSION_ID) for r in range(model.rowCount())] == [
        ids["not_uploaded"], ids["pending"], ids["uploading"], ids["done"], ids["failed"], ids["damaged"]]
    damaged = model.item(ids["damaged"])
    assert damaged is not None and damaged.damaged
    text = view.summary_label.text()
    assert text.startswith("6 sessions")
    assert "1 pending" in text and "1 failed" in text and "1 damaged" in text and "KiB total" in text


def test_progress_touches_exactly_one_row(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    model = view.model
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): changes.append((a.row(), b.row())))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.set_progress(ids["uploading"], Progress(500, 1000, 1e6, 3))
    row = model.row_of(ids["uploading"])
    assert changes == [(row, row)] and not resets
    live = model.live(ids["uploading"])
    assert live is not None and live.bytes_uploaded == 500


def test_reload_with_same_sessions_signals_only_changed_rows(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    model = view.model
    changes: list[int] = []
    model.dataChanged.connect(lambda a, _b, _roles=(): changes.append(a.row()))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    paths = session_paths(data_dir, ids["failed"])
    paths.upload_state.unlink()
    model.set_items(list_sessions(data_dir))
    assert changes == [model.row_of(ids["failed"])] and not resets
    item = model.item(ids["failed"])
    assert item is not None and item.upload_status == "not_uploaded"


def test_upsert_inserts_a_new_session_at_the_top(qtbot: QtBot, data_dir: Path) -> None:
    one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    newest = make_session(data_dir, NOW + 5_000)
    view.model.upsert(read_list_item(session_paths(data_dir, newest)))
    assert view.model.data(view.model.index(0), Role.SESSION_ID) == newest
    assert view.summary_label.text().startswith("7 sessions")


def test_filter_by_status(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    labels = [label for label, _ in FILTERS]

    def shown() -> set[str]:
        proxy = view.proxy
        return {proxy.data(proxy.index(r, 0), Role.SESSION_ID) for r in range(proxy.rowCount())}

    view.set_filter(labels.index("Failed"))
    assert shown() == {ids["failed"]}
    view.set_filter(labels.index("Pending or uploading"))
    assert shown() == {ids["pending"], ids["uploading"]}
    view.set_filter(labels.index("Damaged"))
    assert shown() == {ids["damaged"]}
    # A status change moves a session into the filter without reloading the list.
    item = view.model.item(ids["done"])
    assert item is not None
    from dataclasses import replace
    view.model.upsert(replace(item, upload_status="failed"))
    view.set_filter(labels.index("Failed"))
    assert shown() == {ids["failed"], ids["done"]}
    view.set_filter(0)
    assert len(shown()) == 6


def click(qtbot: QtBot, view: SessionListView, point: QPoint) -> None:
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_clicking_buttons_emits_only_enabled_actions(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    not_exported = make_session(data_dir, NOW - 7_200_000, exported=False)
    view = make_view(qtbot, data_dir)
    seen: list[tuple[str, str]] = []
    view.actionRequested.connect(lambda sid, action: seen.append((sid, action)))
    click(qtbot, view, button_centre(view, ids["not_uploaded"], "upload"))
    click(qtbot, view, button_centre(view, ids["failed"], "retry"))
    click(qtbot, view, button_centre(view, ids["uploading"], "cancel"))
    click(qtbot, view, button_centre(view, ids["uploading"], "delete"))  # disabled: nothing
    click(qtbot, view, button_centre(view, not_exported, "upload"))  # disabled: nothing
    click(qtbot, view, button_centre(view, ids["done"], "open_folder"))
    assert seen == [(ids["not_uploaded"], "upload"), (ids["failed"], "retry"),
                    (ids["uploading"], "cancel"), (ids["done"], "open_folder")]


def test_upload_waits_for_a_valid_config(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir, config_valid=False)
    seen: list[tuple[str, str]] = []
    view.actionRequested.connect(lambda sid, action: seen.append((sid, action)))
    click(qtbot, view, button_centre(view, ids["not_uploaded"], "upload"))
    assert seen == []
    view.model.set_config_valid(True)
    click(qtbot, view, button_centre(view, ids["not_uploaded"], "upload"))
    assert seen == [(ids["not_uploaded"], "upload")]


def test_keyboard_acts_on_the_current_card(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    view = make_view(qtbot, data_dir)
    seen: list[tuple[str, str]] = []
    view.actionRequested.connect(lambda sid, action: seen.append((sid, action)))
    view.list.setFocus()
    view.select_session(ids["failed"])
    qtbot.keyClick(view.list, Qt.Key.Key_U)  # no upload on a failed card
    qtbot.keyClick(view.list, Qt.Key.Key_R)
    qtbot.keyClick(view.list, Qt.Key.Key_Up)  # to the done card
    qtbot.keyClick(view.list, Qt.Key.Key_Delete)
    assert seen == [(ids["failed"], "retry"), (ids["done"], "delete")]
    menu = view.list.actions_menu(view.list.currentIndex())
    assert [a.text().split("\t")[0] for a in menu.actions() if a.isEnabled()] == [
        "Edit title and note…", "Play", "Open folder", "Delete"]
    qtbot.keyClick(view.list, Qt.Key.Key_F2)
    assert seen[-1] == (ids["done"], "edit")


def test_tooltip_carries_the_failure_detail(qtbot: QtBot, data_dir: Path) -> None:
    ids = one_of_each(data_dir)
    from app.upload.session.state_store import UploadStateStore

    UploadStateStore(data_dir).update(ids["failed"], last_error="The access key is not valid.",
                                      error_detail="InvalidAccessKeyId (HTTP 403)")
    view = make_view(qtbot, data_dir)
    row = view.model.row_of(ids["failed"])
    assert row is not None
    index = view.proxy.mapFromSource(view.model.index(row))
    tip = view.list.card_delegate.tooltip(index, None)
    assert "The access key is not valid." in tip and "InvalidAccessKeyId (HTTP 403)" in tip
    assert view.list.card_delegate.tooltip(QModelIndex(index), "delete") == "Delete (Del)"
