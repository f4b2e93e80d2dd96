"""The desktop app's composition root: builds the window, the background executor, the
recording controller, the S3 settings panel and (once the first list is shown) the upload
queue, and connects them through their public signals and slots. Nothing else builds or
wires these parts; the widgets know none of them.

After the window is visible: crash recovery and cleanup, the first list, then the queue
(restored from disk), so it restores sessions that recovery just finished; then the
libraries the first recording and upload need. All blocking parts run off the GUI thread.

When another process owns the upload queue of this data dir (a `sessionrec queue --wait`),
the window acts through a `RemoteQueue` (the same actions, handed over the socket). That
owner cannot tell us about status changes, so the list is read again every two seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.app_shell.local_bucket import LocalBucket, is_demo_config
from app.app_shell.recording_controller import RecordingController
from app.app_shell.startup import StartReport, recover_and_clean, warm_up
from app.gui_executor import GuiExecutor
from app.main_window import MainWindow
from app.upload.queue.calls import DestinationCalls
from app.widgets.upload_config_panel import LoadedSettings, UploadConfigPanel

log = logging.getLogger(__name__)

REMOTE_RELOAD_MS = 2000


class Application(QObject):
    """Owns the window's parts and starts and stops the background ones."""

    ready = Signal()  # recovery done, list loaded, queue started, recorder and S3 client loaded

    def __init__(self, data_dir: Path, recorder: RecordingController | None = None,
                 engine: DestinationCalls | None = None, start_queue: bool = True) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.engine = engine
        self.start_queue = start_queue
        self.executor = GuiExecutor(parent=self)
        self.window = MainWindow(data_dir, recorder or RecordingController(data_dir), self.executor)
        self.host: Any = None
        self.remote_reload: QTimer | None = None
        self.demo: LocalBucket | None = None
        self.recovered: list[str] = []
        self.panel = UploadConfigPanel(data_dir, executor=self.executor)
        self.window.add_settings_panel(self.panel)
        self.panel.saved.connect(self._config_saved)
        self.panel.demoRequested.connect(self.start_demo)
        self.window.closed.connect(self.stop)
        self.window.destroyed.connect(self.stop)

    def start(self) -> None:
        """Call once the window is shown."""
        self.panel.load(self._settings_loaded)
        self.executor.submit(lambda: recover_and_clean(self.data_dir), self._recovered,
                             name="recovery")

    def _follow_config(self, config: Any) -> None:
        self.window.model.set_config_valid(self.panel.config_is_valid())
        self.window.set_cleanup_after_upload(
            config is not None and (config.delete_after_upload or bool(config.keep_uploaded)))

    def _settings_loaded(self, settings: LoadedSettings) -> None:
        self._follow_config(settings.config)
        if self.demo is None and is_demo_config(settings.config) and self.panel.demo_available():
            # The local test bucket lives as long as the app: bring it back with the app.
            self.start_demo()
            return
        if settings.config is None and self.window.current_view() == "sessions" \
                and self.window.model.rowCount() == 0:
            self.window.show_view("settings")  # first run: S3 is what needs doing

    def _config_saved(self, config: object) -> None:
        self._follow_config(config)
        if self.host is not None:
            # A webhook set again: records waiting for one go out now, not at the next start.
            from app.upload.records.outbox import outbox_for

            self.executor.submit(outbox_for(self.data_dir).resume, name="file-records")

    def _recovered(self, report: StartReport) -> None:
        self.recovered = report.exported
        for note in report.notes:
            log.info("%s", note)
        if report.notes:
            self.window.show_message(report.notes[-1], 10_000)
        self.window.sessionsLoaded.connect(self._first_list, type=Qt.ConnectionType.SingleShotConnection)
        self.window.reload_sessions()

    def _first_list(self, _count: int) -> None:
        if self.start_queue:
            self._start_queue()
            # Recordings finished by recovery go up like any other recording after Stop.
            self.window.auto_upload(self.recovered, "after recovery")
        # After the list is on screen, so it never waits for this.
        self.executor.submit(warm_up, lambda _result: self._warmed_up(),
                             lambda _exc: self._warmed_up(), "warm-up")

    def _warmed_up(self) -> None:
        # pynput is loaded now, so registering the saved hotkey does not stall the window.
        self.window.register_saved_hotkey()
        self.ready.emit()

    def _start_queue(self) -> None:
        from app.upload.qt_host import QueueHost
        from app.upload.qt_ipc import RemoteQueue

        host = QueueHost.try_open(self.data_dir, engine=self.engine, parent=self)
        if host is None:
            self.window.attach_queue(RemoteQueue(self.data_dir), reports_status=False)
            self.window.show_message(
                "Another sessionrec process runs the upload queue; this window hands requests to it.",
                10_000)
            # The owner answers requests but cannot report status changes to this window.
            self.remote_reload = QTimer(self)
            self.remote_reload.setInterval(REMOTE_RELOAD_MS)
            self.remote_reload.timeout.connect(self._reload_if_idle)
            self.remote_reload.start()
            return
        self.host = host
        queue = host.queue
        queue.statusChanged.connect(self.window.on_upload_status)
        queue.progress.connect(self.window.on_upload_progress)
        queue.failed.connect(self.window.on_upload_failed)
        queue.fileRecordChanged.connect(self.window.on_file_record)
        self.window.attach_queue(queue)
        host.start(restore=True)

    def _reload_if_idle(self) -> None:
        # Reloads queue behind other work instead of piling up when the disk is slow.
        if self.executor.idle():
            self.window.reload_sessions()

    # --- the local test bucket ---------------------------------------------------------------
    def start_demo(self) -> None:
        self.panel.set_demo_available(False)
        self.panel.set_demo_status("Starting a local test bucket…")

        def done(demo: LocalBucket) -> None:
            self.demo = demo
            self.panel.load(self._demo_loaded)

        def failed(exc: BaseException) -> None:
            self.panel.set_demo_available(True)
            self.panel.set_demo_status(f"The local test bucket could not start: {exc}")

        self.executor.submit(lambda: LocalBucket.start(self.data_dir), done, failed, "demo-s3")

    def _demo_loaded(self, settings: LoadedSettings) -> None:
        self._settings_loaded(settings)
        demo = self.demo
        if demo is not None:
            self.panel.set_demo_status(
                f"Using a LOCAL, TEMPORARY test bucket ({demo.bucket} at {demo.endpoint_url}): it "
                "runs only while this app is open, and everything uploaded to it is lost when the "
                "app quits.")

    def stop(self) -> None:
        """Stop the queue (multipart uploads are kept, so they resume at the next start), the
        remote reload and the local test bucket. Safe to call more than once."""
        if self.remote_reload is not None:
            self.remote_reload.stop()
        if self.host is not None:
            self.host.close()
            self.host = None
        if self.demo is not None:
            self.demo.stop()
            self.demo = None
