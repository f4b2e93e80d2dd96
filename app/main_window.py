"""MainWindow: the recording view, the sessions view and the settings, plus the tray.

It owns no blocking work: the recording controller, the upload queue (its own
QThread) and the executor (one worker for disk and network work) do that, and report
back through signals. It is built and wired to the queue and the settings by the
composition root, `app/app_shell/application.py`.
Window size, position, the last view, the list filter and the recording options
are kept in `gui-settings.ini` in the data dir (QSettings in INI format), so a
test's data dir never touches the real home folder.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.app_shell.recording_controller import RecordingController
from app.format import human_rate, human_size
from app.gui_executor import GuiExecutor
from app.models import SessionListItem
from app.recorder.monitors import Monitor, list_monitors
from app.recorder.options import RecordingOptions, options_from_stored
from app.session_texts import (
    KEEP,
    MAX_TITLE_CHARS,
    Keep,
    TextProblem,
    clean_title,
    set_session_texts,
)
from app.sessions import (
    InvalidSessionId,
    list_sessions,
    read_list_item,
    session_paths,
)
from app.upload.queue.session_actions import SessionActions, SessionOp
from app.upload.queue.status_report import RecordReport, StatusReport
from app.upload.session.errors import SESSION_REMOVED_SENTENCE
from app.upload.session.progress import Progress
from app.widgets.card_state import ACTIONS, bulk_targets, card_buttons, search_text
from app.widgets.hotkey import DEFAULT_HOTKEY, GlobalHotkey
from app.widgets.icons import icon
from app.widgets.record_bar import RecordBar
from app.widgets.record_preview import RecordPreview
from app.widgets.recording_options import RecordingOptionsPanel
from app.widgets.session_list import FILTERS, SessionListView
from app.widgets.session_model import SessionListModel
from app.widgets.session_texts_dialog import SessionTextsDialog
from app.widgets.session_viewer import SessionViewer
from app.widgets.thumbnails import ThumbnailCache
from app.widgets.tray import Tray

log = logging.getLogger(__name__)

# action -> (what the status bar says while it runs, what it says when done)
BULK_VERBS: dict[str, tuple[str, str]] = {
    "upload": ("Queueing", "queued for upload"), "retry": ("Retrying", "queued again"),
    "cancel": ("Cancelling", "cancelled"), "delete": ("Deleting", "deleted"),
}


def _sessions(count: int) -> str:
    return f"{count} session{'s' if count != 1 else ''}"

View = Literal["recording", "sessions", "settings"]
VIEWS: tuple[View, ...] = ("recording", "sessions", "settings")
SETTINGS_FILE = "gui-settings.ini"
CloseChoice = Literal["tray", "quit", "cancel"]


def gui_settings(data_dir: Path) -> QSettings:
    return QSettings(str(data_dir / SETTINGS_FILE), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    sessionsLoaded = Signal(int)  # number of sessions, each time the full list arrives
    closed = Signal()  # the window really closed (not hidden to the tray)
    linkCopied = Signal(str)  # sessionId: its share link is on the clipboard
    linkFailed = Signal(str, str)  # sessionId, sentence

    def __init__(self, data_dir: Path, recorder: RecordingController | None = None,
                 executor: GuiExecutor | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.settings = gui_settings(data_dir)
        self.setWindowTitle("sessionrec")
        self.setWindowIcon(icon("app"))
        self.executor = executor or GuiExecutor(parent=self)
        self.queue: SessionActions | None = None
        # The queue reports every status change (in-process); a remote owner does not.
        self._queue_reports = False
        # Cleanup after upload is on: a finished upload may remove local files.
        self._cleanup_after_upload = False
        self.really_quit = False
        self.texts_dialog: SessionTextsDialog | None = None
        # Title/note edits of sessions this window is still recording or exporting: written
        # once the export is done (the recorder owns the meta until then).
        self._texts_after_export: dict[str, tuple[str | Keep | None, str | Keep | None]] = {}
        self._own_busy_sessions: set[str] = set()
        # Sessions queued by auto upload whose card says so until their upload starts.
        self._auto_queued: set[str] = set()
        # Tests replace these two to answer dialogs without a person.
        self.ask_close: Callable[[str], CloseChoice] = self._ask_close
        self.confirm: Callable[[str, str], bool] = self._confirm

        self.model = SessionListModel(self)
        self.thumbnails = ThumbnailCache(data_dir, self)
        self.model.set_thumbnails(self.thumbnails)
        self.viewers: dict[str, SessionViewer] = {}
        self.recorder = recorder or RecordingController(data_dir, parent=self)
        self.recorder.setParent(self)

        # --- views --------------------------------------------------------------------------
        self.stack = QStackedWidget(self)
        self.record_bar = RecordBar(self)
        self.recording_page = self._build_recording_page()
        self.session_view = SessionListView(self.model, self)
        self.session_view.list.verticalScrollBar().valueChanged.connect(
            lambda _value: self.thumbnails.hold_off())
        self.settings_page, self.settings_layout = self._build_settings_page()
        for page in (self.recording_page, self.session_view, self.settings_page):
            self.stack.addWidget(page)
        self.setCentralWidget(self.stack)

        toolbar = QToolBar("Views", self)
        toolbar.setObjectName("views")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)
        group = QActionGroup(self)
        group.setExclusive(True)
        self.view_actions: dict[View, QAction] = {}
        pages: list[tuple[View, str, str]] = [
            ("recording", "&Recording", "recording-view"), ("sessions", "&Sessions", "sessions"),
            ("settings", "S&ettings", "settings")]
        for number, (view, label, icon_name) in enumerate(pages, start=1):
            action = QAction(icon(icon_name), label, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.setToolTip(f"{label.replace('&', '')} (Ctrl+{number})")
            action.triggered.connect(lambda _checked=False, v=view: self.show_view(v))
            group.addAction(action)
            toolbar.addAction(action)
            self.view_actions[view] = action
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.reload_sessions)
        self.addAction(refresh)

        self.status_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.status_label, 1)

        # --- wiring -------------------------------------------------------------------------
        self.session_view.actionRequested.connect(self.on_card_action)
        self.session_view.bulkActionRequested.connect(self.on_bulk_action)
        self.record_bar.recordRequested.connect(self.start_recording)
        self.options_panel.changed.connect(self._recording_options_changed)
        self.recorder.previewReady.connect(self.preview.show_preview)
        self.record_bar.pauseRequested.connect(self.recorder.pause)
        self.record_bar.resumeRequested.connect(self.recorder.resume)
        self.record_bar.stopRequested.connect(lambda: self.recorder.stop())
        self.recorder.stateChanged.connect(self._recording_state)
        self.recorder.statsChanged.connect(self.record_bar.set_stats)
        self.recorder.healthChanged.connect(self.record_bar.set_health)
        self.recorder.sessionStarted.connect(self._session_started)
        self.recorder.sessionStopped.connect(self._session_stopped)
        self.recorder.exportFinished.connect(self._session_exported)
        self.model.summaryChanged.connect(self._update_upload_summary)

        self.tray = Tray(self)
        self.tray.toggleRecordingRequested.connect(self.toggle_recording)
        self.tray.showWindowRequested.connect(self.show_window)
        self.tray.quitRequested.connect(self.quit_app)
        self.tray.show()
        self.hotkey = GlobalHotkey(self)
        self.hotkey.activated.connect(self.toggle_recording)

        self._restore_settings()
        self._update_upload_summary()

    # --- pages ------------------------------------------------------------------------------
    def _build_recording_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addWidget(self.record_bar)
        title_row = QHBoxLayout()
        self.next_title_edit = QLineEdit(page)
        self.next_title_edit.setMaxLength(MAX_TITLE_CHARS)
        self.next_title_edit.setPlaceholderText("optional; can be changed later on the session's card")
        self.next_title_edit.setAccessibleName("Title of this recording")
        title_label = QLabel("&Title of this recording:", page)
        title_label.setBuddy(self.next_title_edit)
        title_row.addWidget(title_label)
        title_row.addWidget(self.next_title_edit, 1)
        layout.addLayout(title_row)
        self.options_panel = RecordingOptionsPanel(page)
        self.preview = RecordPreview(page)
        middle = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.options_panel)
        left.addStretch(1)
        middle.addLayout(left)
        middle.addWidget(self.preview, 1)
        layout.addLayout(middle, 1)
        self.last_session_label = QLabel(page)
        self.last_session_label.setWordWrap(True)
        self.hotkey_hint = QLabel(page)
        self.hotkey_hint.setWordWrap(True)
        tips = QLabel(
            "The chosen monitor (or all of them) is recorded as video, with screenshots and every "
            "mouse click, key press and scroll on the same clock. After Stop the session is "
            "zipped and appears at the top of the Sessions view, ready to upload.", page)
        tips.setWordWrap(True)
        layout.addWidget(tips)
        layout.addWidget(self.hotkey_hint)
        layout.addWidget(self.last_session_label)
        return page

    def _build_settings_page(self) -> tuple[QWidget, QVBoxLayout]:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        inner = QWidget(scroll)
        layout = QVBoxLayout(inner)
        app_box = QGroupBox("App", inner)
        form = QFormLayout(app_box)
        self.hotkey_edit = QLineEdit(app_box)
        self.hotkey_edit.setPlaceholderText(DEFAULT_HOTKEY)
        self.hotkey_edit.setToolTip("Starts and stops recording from any application; empty = off. "
                                    "Example: <ctrl>+<alt>+r")
        self.hotkey_apply = QPushButton("Apply hotkey", app_box)
        self.hotkey_apply.clicked.connect(lambda: self.set_hotkey(self.hotkey_edit.text()))
        self.hotkey_message = QLabel(app_box)
        self.hotkey_message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.hotkey_edit, 1)
        row.addWidget(self.hotkey_apply)
        hotkey_label = QLabel("Global &hotkey:", app_box)
        hotkey_label.setBuddy(self.hotkey_edit)
        form.addRow(hotkey_label, row)
        form.addRow("", self.hotkey_message)
        layout.addWidget(app_box)
        layout.addStretch(1)
        scroll.setWidget(inner)
        return scroll, layout

    def add_settings_panel(self, panel: QWidget) -> None:
        """The S3 settings go above the app settings."""
        self.settings_layout.insertWidget(0, panel)

    # --- views ------------------------------------------------------------------------------
    def show_view(self, view: View) -> None:
        self.stack.setCurrentIndex(VIEWS.index(view))
        self.view_actions[view].setChecked(True)
        self.settings.setValue("window/lastView", view)

    def current_view(self) -> View:
        return VIEWS[self.stack.currentIndex()]

    def show_window(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # --- sessions ---------------------------------------------------------------------------
    def reload_sessions(self) -> None:
        """Read every session off the GUI thread, then merge into the model."""
        self.executor.submit(lambda: _with_search_texts(list_sessions(self.data_dir)),
                             self._sessions_loaded, name="list")

    def _sessions_loaded(self, loaded: tuple[list[SessionListItem], dict[str, str]]) -> None:
        items, texts = loaded
        self.model.set_items(items, texts)
        self.sessionsLoaded.emit(len(items))

    def refresh_session(self, session_id: str, then: Callable[[SessionListItem], None] | None = None
                        ) -> None:
        """Re-read one session (off the GUI thread) and update its row only."""

        def read() -> SessionListItem | None:
            try:
                paths = session_paths(self.data_dir, session_id)
            except InvalidSessionId:
                return None  # gone, or replaced by a link: no longer a session to show
            return read_list_item(paths) if paths.root.is_dir() else None

        def done(item: SessionListItem | None) -> None:
            if item is None:
                self.model.remove(session_id)
                return
            self.model.upsert(item)
            if then is not None:
                then(item)

        self.executor.submit(read, done, name="read-session")

    def on_card_action(self, session_id: str, action: str) -> None:
        """A card's button, key or menu entry: the card actions table names the handler."""
        item = self.model.item(session_id)
        spec = ACTIONS.get(action)  # type: ignore[call-overload]
        if item is None or spec is None:
            return
        getattr(self, spec.handler)(item)

    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        """A sentence in the status bar (refusals, results, notes from start-up)."""
        self.statusBar().showMessage(text, timeout_ms)

    def open_session_folder(self, item: SessionListItem) -> None:
        try:
            self.open_folder(session_paths(self.data_dir, item.session_id).root)
        except InvalidSessionId as exc:
            self.show_message(str(exc))

    def upload_session(self, item: SessionListItem) -> None:
        self._act_on_one("enqueue", item.session_id)

    def retry_session(self, item: SessionListItem) -> None:
        self._act_on_one("retry", item.session_id)

    def cancel_session(self, item: SessionListItem) -> None:
        self._act_on_one("cancel", item.session_id)

    def copy_link_of(self, item: SessionListItem) -> None:
        self.copy_link(item.session_id)

    def _act_on_one(self, op: SessionOp, session_id: str) -> None:
        def answered(refusals: dict[str, str]) -> None:
            if session_id in refusals:
                self.show_message(refusals[session_id])

        self.act_on_sessions(op, [session_id], answered)

    def act_on_sessions(self, op: SessionOp, session_ids: list[str],
                        then: Callable[[dict[str, str]], None]) -> None:
        """enqueue/retry/cancel/delete through the queue, off the GUI thread (its checks read
        each session's files; a remote owner is asked over a socket); `then(refusals)` runs on
        the GUI thread. Without a queue, Delete still works and the others are refused."""
        queue = self.queue
        if queue is None and op != "delete":
            self.show_message("The upload queue is not running.", 5000)
            return
        data_dir = self.data_dir

        def work() -> dict[str, str]:
            if queue is not None:
                return queue.act_on_many(op, session_ids)
            from app.upload.queue.session_actions import real_delete
            from app.upload.session.state_store import UploadStateStore

            store = UploadStateStore(data_dir)
            refusals = {sid: real_delete(data_dir, store, sid) for sid in session_ids}
            return {sid: sentence for sid, sentence in refusals.items() if sentence}

        def done(refusals: dict[str, str]) -> None:
            if not self._queue_reports and op != "delete":
                for session_id in session_ids:  # no status reports will come: read what changed
                    self.refresh_session(session_id)
            then(refusals)

        def failed(exc: BaseException) -> None:
            then(dict.fromkeys(session_ids, f"The request failed unexpectedly ({type(exc).__name__}); "
                                            "see the log."))

        self.executor.submit(work, done, failed, name=f"queue-{op}")

    # --- titles and notes ---------------------------------------------------------------------
    def edit_texts(self, item: SessionListItem) -> SessionTextsDialog:
        """Open the title and note editor of one session (window-modal, not blocking)."""
        if self.texts_dialog is not None:
            self.texts_dialog.close()
        pending = self._texts_after_export.get(item.session_id)
        if pending is not None:  # show what will be written, not the meta on disk
            title, note = pending
            item = dataclasses.replace(item, title=item.title if isinstance(title, Keep) else title,
                                       note=item.note if isinstance(note, Keep) else note)
        dialog = SessionTextsDialog(item, self)
        dialog.textsChosen.connect(self.save_texts)
        dialog.finished.connect(lambda _result: setattr(self, "texts_dialog", None))
        self.texts_dialog = dialog
        dialog.open()
        return dialog

    def save_texts(self, session_id: str, title: str | Keep | None, note: str | Keep | None) -> None:
        """Write a title and note off the GUI thread; kept until the export for a session
        this window is still recording or exporting."""
        if session_id in self._own_busy_sessions:
            old_title, old_note = self._texts_after_export.get(session_id, (KEEP, KEEP))
            self._texts_after_export[session_id] = (
                old_title if isinstance(title, Keep) else title,
                old_note if isinstance(note, Keep) else note)
            self.statusBar().showMessage(
                "The title is written into the session as soon as it is saved.", 5000)
            return
        self._write_texts(session_id, title, note)

    def _write_texts(self, session_id: str, title: str | Keep | None, note: str | Keep | None,
                     then: Callable[[], None] | None = None) -> None:
        data_dir = self.data_dir

        def done(_meta: object) -> None:
            self.refresh_session(session_id)
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            sentence = str(exc) if isinstance(exc, ValueError | RuntimeError) else \
                f"The title could not be saved ({getattr(exc, 'strerror', None) or exc})."
            self.statusBar().showMessage(sentence, 8000)
            if then is not None:
                then()

        self.executor.submit(lambda: set_session_texts(data_dir, session_id, title=title, note=note),
                             done, failed, "save-title")

    # --- bulk actions --------------------------------------------------------------------------
    def on_bulk_action(self, session_ids: list[str], action: str) -> None:
        """Upload/Retry/Cancel/Delete every listed session whose card allows it."""
        items = [i for i in (self.model.item(s) for s in session_ids) if i is not None]
        targets = bulk_targets(items, action, self.model.config_valid)  # type: ignore[arg-type]
        verb = BULK_VERBS.get(action)
        if verb is None:
            return
        if not targets:
            text = (f"This session cannot be {verb[1]} now." if len(items) == 1 else
                    f"None of these {len(items)} sessions can be {verb[1]} now.")
            self.statusBar().showMessage(text, 6000)
            return
        if action == "delete":
            self.delete_sessions([i for i in items if i.session_id in set(targets)])
            return
        if self.queue is None:
            self.show_message("The upload queue is not running.", 5000)
            return
        op: SessionOp = {"upload": "enqueue", "retry": "retry", "cancel": "cancel"}[action]  # type: ignore[assignment]
        self.show_message(f"{verb[0]} {_sessions(len(targets))}…", 3000)
        self.act_on_sessions(op, targets, lambda refusals: self._bulk_done(verb, targets, refusals))

    # --- upload after Stop ----------------------------------------------------------------------
    def auto_upload(self, session_ids: list[str], why: str) -> None:
        """Queue sessions that were just exported (`why`: "after Stop" or "after recovery")
        when the settings have autoUpload on; the card and a notification say so."""
        if not session_ids:
            return
        data_dir = self.data_dir

        def settings_say_yes() -> bool:
            from app.upload.config import load_config

            config = load_config(data_dir).value
            return config is not None and config.auto_upload_on

        def decided(on: bool) -> None:
            if not on:
                return
            if self.queue is None:
                self.statusBar().showMessage("Auto upload is on, but the upload queue is not running.",
                                             8000)
                return
            for session_id in session_ids:
                self._auto_queued.add(session_id)
                self.model.set_note(session_id, f"Queued for upload automatically {why}")
            self.act_on_sessions("enqueue", session_ids,
                                 lambda refusals: self._auto_upload_done(session_ids, refusals, why))

        self.executor.submit(settings_say_yes, decided, name="auto-upload-settings")

    def _auto_upload_done(self, session_ids: list[str], refusals: dict[str, str], why: str) -> None:
        queued = [s for s in session_ids if s not in refusals]
        for session_id, sentence in refusals.items():
            self._auto_queued.discard(session_id)
            self.model.set_note(session_id, None)
            self.statusBar().showMessage(f"Session {session_id} was not queued for upload: {sentence}",
                                         10_000)
        if len(queued) == 1:
            item = self.model.item(queued[0])
            name = f"“{item.title}”" if item is not None and item.title else f"Session {queued[0]}"
            self.tray.notify("Uploading automatically", f"{name} is queued for upload {why}.")
            self.last_session_label.setText(f"{name} is saved and queued for upload (auto upload is on).")
        elif queued:
            self.tray.notify("Uploading automatically",
                             f"{_sessions(len(queued))} are queued for upload {why}.")

    def _bulk_done(self, verb: tuple[str, str], targets: list[str], refusals: dict[str, str]) -> None:
        done = len(targets) - len(refusals)
        text = f"{_sessions(done)} {verb[1]}."
        if refusals:
            text += f" {len(refusals)} could not be: {next(iter(refusals.values()))}"
        self.show_message(text, 10_000)

    def delete_sessions(self, items: list[SessionListItem]) -> None:
        """Delete several sessions after one confirmation (two when some never reached the bucket)."""
        if len(items) == 1:
            self.delete_session(items[0])
            return
        if not self.confirm("Delete sessions?",
                            f"Delete {len(items)} sessions and all their files from this computer?"):
            return
        unsent = [i for i in items if i.upload_status != "done"]
        if unsent and not self.confirm(
                "Some sessions were never uploaded",
                f"{len(unsent)} of these recordings have not reached the bucket. Once deleted they "
                "are gone for good. Delete them anyway?"):
            return
        self._delete([i.session_id for i in items])

    def _delete(self, ids: list[str]) -> None:
        """Delete through the queue (an open multipart upload is aborted first); the cards say
        so meanwhile, and the status bar says what could not be deleted."""
        for session_id in ids:
            viewer = self.viewers.get(session_id)
            if viewer is not None:
                viewer.close()  # its decoder holds the video open
            self.thumbnails.drop(session_id)
            self.model.set_note(session_id, "Deleting…")

        def done(refusals: dict[str, str]) -> None:
            for session_id in ids:
                self.model.set_note(session_id, None)
                if session_id not in refusals:
                    self.model.remove(session_id)
            if len(ids) == 1:
                if refusals:
                    self.show_message(next(iter(refusals.values())), 10_000)
                return
            text = f"Deleted {_sessions(len(ids) - len(refusals))}."
            if refusals:
                text += f" {len(refusals)} could not be deleted: {next(iter(refusals.values()))}"
            self.show_message(text, 10_000)

        self.act_on_sessions("delete", ids, done)

    def open_viewer(self, item: SessionListItem) -> SessionViewer | None:
        """Watch a session (one viewer window per session; a second request raises it)."""
        reason = card_buttons(item, self.model.config_valid).play_blocked_reason
        if reason:
            self.statusBar().showMessage(reason, 5000)
            return None
        viewer = self.viewers.get(item.session_id)
        if viewer is None:
            viewer = SessionViewer(self.data_dir, item.session_id, executor=self.executor)
            self.viewers[item.session_id] = viewer
            viewer.closed.connect(lambda sid: self.viewers.pop(sid, None))
            viewer.show()
            viewer.start()
        else:
            viewer.showNormal()
        viewer.raise_()
        viewer.activateWindow()
        return viewer

    def copy_link(self, session_id: str, expires_s: int | None = None) -> None:
        """Make a share link off the GUI thread and put it on the clipboard (never in a log)."""
        from app.upload.s3.share_link import DEFAULT_EXPIRES_S, LinkError, ShareLink, make_share_link

        data_dir = self.data_dir
        seconds = expires_s or DEFAULT_EXPIRES_S
        self.statusBar().showMessage(f"Making a link to session {session_id}…", 3000)

        def done(link: ShareLink) -> None:
            QGuiApplication.clipboard().setText(link.url)
            self.statusBar().showMessage(
                f"A link to session {session_id} is on the clipboard. " + " ".join(link.notes()), 15_000)
            self.linkCopied.emit(session_id)

        def failed(exc: BaseException) -> None:
            sentence = str(exc) if isinstance(exc, LinkError) else \
                f"The link could not be made ({type(exc).__name__})."
            self.statusBar().showMessage(sentence, 10_000)
            self.linkFailed.emit(session_id, sentence)

        self.executor.submit(lambda: make_share_link(data_dir, session_id, seconds), done, failed,
                             name="share-link")

    def open_folder(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def delete_session(self, item: SessionListItem) -> None:
        if item.upload_status in ("uploading", "pending"):
            self.statusBar().showMessage("Cancel the upload before deleting this session.", 5000)
            return
        when = item.session_id
        if not self.confirm("Delete session?",
                            f"Delete session {when} and all its files from this computer?"):
            return
        if item.upload_status != "done" and not self.confirm(
                "This session was never uploaded",
                "This recording has not reached the bucket. Once deleted it is gone for good. "
                "Delete it anyway?"):
            return
        self._delete([item.session_id])

    # --- uploads ----------------------------------------------------------------------------
    def attach_queue(self, queue: SessionActions, reports_status: bool = True) -> None:
        """Act on sessions through `queue` (the in-process UploadQueue or a RemoteQueue). With
        `reports_status`, the composition root connects its signals to `on_upload_status`,
        `on_upload_progress` and `on_upload_failed`; without, acted-on sessions are re-read."""
        self.queue = queue
        self._queue_reports = reports_status

    def set_cleanup_after_upload(self, on: bool) -> None:
        """The settings remove local files after an upload (delete-after-upload, keep N)."""
        self._cleanup_after_upload = on

    def on_upload_status(self, report: StatusReport) -> None:
        """A status change reported by the queue: the card takes it as it is, no disk read."""
        session_id = report.session_id
        if report.status != "pending" and session_id in self._auto_queued:
            self._auto_queued.discard(session_id)
            self.model.set_note(session_id, None)
        if self.model.apply_status(report) is None:
            self.refresh_session(session_id)  # not listed yet (recorded by another process)
        if report.status == "done":
            self.tray.notify("Upload finished", f"Session {session_id} is uploaded and verified.")
            if self._cleanup_after_upload:
                self.reload_sessions()  # the cleanup policy may have removed local files
        self._update_upload_summary()

    def on_upload_progress(self, session_id: str, progress: Progress) -> None:
        self.model.set_progress(session_id, progress)
        self._update_upload_summary()

    def on_file_record(self, report: RecordReport) -> None:
        """The file-record sender stored, delivered or failed to deliver a record: the card's
        "file record not delivered yet" line follows it, no disk read."""
        self.model.apply_record(report)

    def on_upload_failed(self, session_id: str, sentence: str) -> None:
        self.tray.notify("Upload failed", f"Session {session_id}: {sentence}", error=True)
        item = self.model.item(session_id)
        if sentence == SESSION_REMOVED_SENTENCE or item is None or item.upload_status != "failed":
            # No status report said so (its folder is gone, or the state could not be written).
            self.refresh_session(session_id)

    def uploads_active(self) -> bool:
        summary = self.model.summary()
        return summary.pending + summary.uploading > 0

    def _update_upload_summary(self) -> None:
        summary = self.model.summary()
        parts = []
        if summary.uploading:
            live = [self.model.live(i.session_id) for i in self.model.items()
                    if i.upload_status == "uploading"] if summary.uploading <= 3 else []
            rates = [p for p in live if p is not None]
            text = f"{summary.uploading} uploading"
            if rates and rates[0].total_bytes:
                first = rates[0]
                text += f" ({100 * first.bytes_uploaded / first.total_bytes:.0f}%, " \
                        f"{human_rate(first.bytes_per_sec)})"
            parts.append(text)
        if summary.pending:
            parts.append(f"{summary.pending} pending")
        if summary.failed:
            parts.append(f"{summary.failed} failed")
        text = "Uploads: " + (", ".join(parts) if parts else "none in progress")
        text += f" · {summary.total} sessions, {human_size(summary.total_bytes)}"
        self.status_label.setText(text)
        self.tray.set_summary(text)

    # --- recording --------------------------------------------------------------------------
    def start_recording(self) -> None:
        """Record with the options the Recording view shows."""
        self.recorder.set_options(self.options_panel.options())
        self.recorder.start()

    def toggle_recording(self) -> None:
        if self.recorder.state == "idle":
            self.start_recording()
        else:
            self.recorder.toggle()

    def load_monitors(self) -> None:
        """List the monitors off the GUI thread (X round trips), then offer them."""
        def listed(monitors: list[Monitor]) -> None:
            self.options_panel.set_monitors(monitors)
            self.preview.set_monitors(monitors)
            self.preview.set_chosen(self.options_panel.options().monitor)

        def failed(exc: BaseException) -> None:
            self.options_panel.set_monitors([], f"The monitors could not be listed ({exc}).")

        self.executor.submit(list_monitors, listed, failed, "list-monitors")

    def set_recording_options(self, options: RecordingOptions) -> None:
        """Show and remember `options`, as if chosen in the Recording view."""
        self.options_panel.set_options(options)
        self._recording_options_changed(self.options_panel.options())

    def _recording_options_changed(self, options: RecordingOptions) -> None:
        self.recorder.set_options(options)
        self.preview.set_chosen(options.monitor)
        self.settings.setValue("recording/fps", options.fps)
        self.settings.setValue("recording/monitor", options.monitor)
        self.settings.setValue("recording/maskKeys", options.mask_keys)
        self.settings.setValue("recording/screenshotEverySec", options.screenshot_every_s)

    def _recording_state(self, state: str) -> None:
        self.record_bar.set_state(state)  # type: ignore[arg-type]
        self.tray.set_recording(state in ("recording", "paused", "starting"))
        self.options_panel.set_locked(state != "idle")
        self.preview.set_live(state in ("recording", "paused"))

    def _session_started(self, session_id: str) -> None:
        self._own_busy_sessions.add(session_id)

    def _session_stopped(self, session_id: str) -> None:
        typed = self.next_title_edit.text()
        if typed.strip():
            try:
                self.save_texts(session_id, clean_title(typed), KEEP)
            except TextProblem as exc:
                self.statusBar().showMessage(f"The title was not used: {exc}", 8000)
        self.next_title_edit.clear()
        self.refresh_session(session_id)
        self.model.set_note(session_id, "Exporting the zip…")
        self.last_session_label.setText(f"Session {session_id} stopped; exporting the zip…")
        self.show_view("sessions")
        self.session_view.set_filter(0)
        QTimer.singleShot(0, lambda: self.session_view.select_session(session_id))

    def _session_exported(self, session_id: str, error: object) -> None:
        self.model.set_note(session_id, None)
        self._own_busy_sessions.discard(session_id)
        texts = self._texts_after_export.pop(session_id, None)
        if not error:
            # The title goes in first, so the object's metadata carries it.
            def queue_it() -> None:
                self.auto_upload([session_id], "after Stop")

            if texts is not None:
                self._write_texts(session_id, *texts, then=queue_it)
            else:
                queue_it()
        elif texts is not None:
            self._write_texts(session_id, *texts)
        self.refresh_session(session_id)
        if error:
            self.last_session_label.setText(f"Session {session_id} could not be exported: {error}")
            self.tray.notify("Export failed", str(error), error=True)
        else:
            self.last_session_label.setText(f"Session {session_id} is ready to upload.")

    # --- hotkey -----------------------------------------------------------------------------
    def register_saved_hotkey(self) -> None:
        """Listen for the hotkey saved in gui-settings.ini (called once the window is up, after
        pynput is loaded off the GUI thread), so it works without pressing Apply again."""
        saved = self.hotkey_edit.text().strip()
        if saved and not self.hotkey.active:
            self.set_hotkey(saved)

    def set_hotkey(self, spec: str) -> None:
        problem = self.hotkey.set_hotkey(spec)
        self.settings.setValue("hotkey", spec.strip())
        if problem:
            self.hotkey_message.setText(problem)
        elif spec.strip():
            self.hotkey_message.setText(f"{spec.strip()} starts and stops recording.")
        else:
            self.hotkey_message.setText("No global hotkey.")
        self.hotkey_hint.setText(
            f"Global hotkey: {spec.strip()} starts and stops recording from any application."
            if self.hotkey.active else "")

    # --- window state and closing -------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(960, 720)
        view = str(self.settings.value("window/lastView", "sessions"))
        self.show_view(view if view in VIEWS else "sessions")
        try:
            position = int(str(self.settings.value("sessions/filter", 0)))
        except ValueError:
            position = 0
        self.session_view.set_filter(position if 0 <= position < len(FILTERS) else 0)
        self.session_view.filter_box.currentIndexChanged.connect(
            lambda i: self.settings.setValue("sessions/filter", i))
        hotkey = str(self.settings.value("hotkey", ""))
        self.hotkey_edit.setText(hotkey)
        default = self.recorder.options
        options = options_from_stored(
            self.settings.value("recording/fps", default.fps),
            self.settings.value("recording/monitor", default.monitor),
            self.settings.value("recording/maskKeys", default.mask_keys),
            self.settings.value("recording/screenshotEverySec", default.screenshot_every_s))
        self.options_panel.set_options(options)
        self.recorder.set_options(options)
        self.preview.set_chosen(options.monitor)
        if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
            QTimer.singleShot(0, self.load_monitors)  # after the first paint
        else:
            self.options_panel.set_monitors([], "No screen to record here (DISPLAY is not set).")

    def save_window_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/lastView", self.current_view())
        self.settings.sync()

    def _ask_close(self, what: str) -> CloseChoice:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("sessionrec is busy")
        box.setText(f"{what} Nothing is lost either way.")
        tray = box.addButton("Keep running in the tray", QMessageBox.ButtonRole.AcceptRole) \
            if Tray.available() else None
        quit_button = box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if tray is not None and clicked is tray:
            return "tray"
        if clicked is quit_button:
            return "quit"
        return "cancel"

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def busy_reason(self) -> str | None:
        if self.recorder.busy:
            return "A recording is running (or still being saved)."
        if self.uploads_active():
            return "Uploads are in progress; pending uploads resume the next time the app starts."
        return None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        reason = None if self.really_quit else self.busy_reason()
        if reason is None:
            self.shutdown()
            event.accept()
            self.closed.emit()
            return
        choice = self.ask_close(reason)
        if choice == "tray":
            event.ignore()
            self.hide()
            self.tray.notify("sessionrec is still running", "Recording and uploads continue in the tray.")
        elif choice == "quit":
            self.really_quit = True
            if self.recorder.busy:
                event.ignore()
                self.quit_app()  # closes again once the recording is saved
            else:
                self.shutdown()
                event.accept()
                self.closed.emit()
        else:
            event.ignore()

    def quit_app(self) -> None:
        """Stop a recording (its files are finished and zipped first), then close."""
        self.really_quit = True
        if self.recorder.busy and self.recorder.state in ("recording", "paused"):
            self.hide()
            self.recorder.stop(on_exported=self.close)
            return
        if self.recorder.busy:  # stopping/exporting already: close when it is done
            self.hide()
            self.recorder.exportFinished.connect(lambda *_: self.close())
            return
        self.close()

    def shutdown(self) -> None:
        for viewer in list(self.viewers.values()):
            viewer.close()
        self.thumbnails.stop()
        self.hotkey.stop()
        self.tray.icon.hide()
        # The queue is the composition root's: it stops it (keeping multipart uploads on the
        # server so they resume at the next start) when `closed` is emitted.
        self.queue = None


def _with_search_texts(items: list[SessionListItem]) -> tuple[list[SessionListItem], dict[str, str]]:
    # Made on the worker with the listing, so the first search types into a warm cache.
    return items, {item.session_id: search_text(item) for item in items}
