"""What the window starts after it is visible: crash recovery, cleanup, the session list,
the upload queue (restored from disk), and the S3 settings. All blocking parts run off the
GUI thread, in this order, so the queue restores sessions that recovery just finished.

When another process owns the upload queue of this data dir (a `sessionrec queue --wait`),
the window sends Upload/Retry/Cancel to it over the hand-off socket (`RemoteQueue`) and
re-reads the list every two seconds instead of receiving signals.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QTimer, Signal

from app.main_window import MainWindow
from app.widgets.background import run_in_background
from app.widgets.upload_config_panel import LoadedSettings, UploadConfigPanel

log = logging.getLogger(__name__)


@dataclass
class StartReport:
    """What start-up recovery and cleanup did: sentences to show, sessions newly exported."""

    notes: list[str]
    exported: list[str]


def recover_and_clean(data_dir: Path) -> StartReport:
    """Finish interrupted recordings and apply the cleanup policy."""
    notes: list[str] = []
    exported: list[str] = []
    try:
        from app.recorder.recovery import recover_interrupted

        for result in recover_interrupted(data_dir):
            notes.append(f"Session {result.session_id}: {result.sentence}")
            if result.exported:
                exported.append(result.session_id)
    except Exception as exc:  # recovery must never keep the window from working
        log.exception("crash recovery failed")
        notes.append(f"Crash recovery could not finish: {exc}")
    try:
        from app.retention import RetentionPolicy, apply_cleanup
        from app.upload.config import load_config

        config = load_config(data_dir).value
        if config is not None:
            policy = RetentionPolicy(config.delete_after_upload, config.keep_uploaded)
            removed = apply_cleanup(data_dir, policy)
            if removed:
                notes.append(f"Removed the local files of {len(removed)} uploaded session(s).")
    except Exception:
        log.exception("cleanup failed")
    return StartReport(notes, exported)


def warm_up() -> None:
    """Load what the first recording and the first upload need, before anything is clicked.

    Loading a C extension (PyAV's FFmpeg libraries, Xlib for pynput) holds the GIL for tens
    of milliseconds, and building the first S3 client is ~50 ms of Python: done on the first
    Record or Upload click, either froze the window visibly (bench/gui.py).
    """
    try:
        import av  # noqa: F401
        import mss  # noqa: F401

        from app.recorder import session_recorder  # noqa: F401
        if os.environ.get("DISPLAY"):
            import pynput.keyboard
            import pynput.mouse  # noqa: F401
    except Exception:
        log.exception("preloading the recorder failed")
    try:
        from app.upload.credentials import warm_up as load_s3_models

        load_s3_models()
    except Exception:
        log.exception("loading the S3 models failed")


def is_demo_config(config: Any) -> bool:
    from app.upload.config import is_loopback_host
    from app.upload.demo_server import DEMO_ACCESS_KEY, DEMO_BUCKET

    if config is None or not config.endpoint_url:
        return False
    host = urlsplit(config.endpoint_url).hostname or ""
    return bool(config.bucket == DEMO_BUCKET and config.access_key_id == DEMO_ACCESS_KEY
                and is_loopback_host(host))


@dataclass
class LocalBucket:
    """The local test bucket's child process (app/widgets/demo_child.py)."""

    process: subprocess.Popen[str]
    endpoint_url: str
    bucket: str

    @classmethod
    def start(cls, data_dir: Path, timeout_s: float = 60.0) -> LocalBucket:
        # The folder this `app` package was imported from (a checkout, or site-packages): the child
        # imports the same package, installed or not. It is also the child's working folder, which
        # `-m` puts first on sys.path; never the data folder, which is untrusted.
        package_parent = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package_parent), env.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "app.widgets.demo_child", str(data_dir)], cwd=package_parent,
            env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The test bucket shares this computer's cores with the window; on two cores, its burst
        # of work when a big upload completes would otherwise delay the event loop.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, 10)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout_s)
        line = process.stdout.readline() if ready else ""
        try:
            info = json.loads(line)
            return cls(process, str(info["endpointUrl"]), str(info["bucket"]))
        except (ValueError, KeyError, TypeError):
            process.kill()
            _, err = process.communicate(timeout=10)
            last = (err.strip().splitlines() or ["it did not start in time"])[-1]
            raise RuntimeError(last[:200]) from None

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()  # the child serves until its stdin closes
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class RemoteQueue(QObject):
    """Upload/Retry/Cancel handed to the process that owns the queue; answers come as signals."""

    answered = Signal(str, object)  # sessionId, sentence or None
    statusChanged = Signal(str, str)
    progress = Signal(str, object, object, float, float)
    failed = Signal(str, str)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir

    def _send(self, op: str, session_id: str) -> None:
        from app.upload.handoff import HandOffError, send_request

        def work() -> str | None:
            try:
                return send_request(self.data_dir, op, [session_id]).get(session_id)
            except HandOffError as exc:
                return str(exc)

        run_in_background(work, lambda answer: self.answered.emit(session_id, answer),
                          name="sessionrec-handoff")

    def send_many(self, op: str, session_ids: list[str],
                  then: Callable[[dict[str, str]], None]) -> None:
        """One hand-off request for many sessions; `then(refusals)` on the GUI thread."""
        from app.upload.handoff import HandOffError, send_in_batches

        wire_op = "upload" if op == "enqueue" else op

        def work() -> dict[str, str]:
            try:
                answers = send_in_batches(self.data_dir, wire_op, session_ids)
            except HandOffError as exc:
                return dict.fromkeys(session_ids, str(exc))
            return {sid: str(answer) for sid, answer in answers.items() if answer}

        run_in_background(work, then, name="sessionrec-handoff")

    def enqueue(self, session_id: str) -> None:
        self._send("upload", session_id)

    def retry(self, session_id: str) -> None:
        self._send("retry", session_id)

    def cancel(self, session_id: str) -> None:
        self._send("cancel", session_id)

    def shutdown(self) -> bool:
        return True


class Services(QObject):
    """Starts and stops the window's background parts."""

    ready = Signal()  # recovery done, list loaded, queue started, recorder and S3 client loaded

    def __init__(self, window: MainWindow, engine: Any = None, start_queue: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.data_dir = window.data_dir
        self.engine = engine
        self.start_queue = start_queue
        self.host: Any = None
        self.remote_poll: QTimer | None = None
        self.demo: Any = None
        self.recovered: list[str] = []
        self.panel = UploadConfigPanel(self.data_dir, window)
        window.add_settings_panel(self.panel)
        self.panel.saved.connect(self._config_saved)
        self.panel.demoRequested.connect(self.start_demo)
        window.destroyed.connect(self.stop)

    def start(self) -> None:
        """Call once the window is shown."""
        self.panel.load(self._settings_loaded)
        run_in_background(lambda: recover_and_clean(self.data_dir), self._recovered,
                          name="sessionrec-recovery")

    def _settings_loaded(self, settings: LoadedSettings) -> None:
        self.window.model.set_config_valid(self.panel.config_is_valid())
        if self.demo is None and is_demo_config(settings.config) and self.panel.demo_button.isEnabled():
            # The local test bucket lives as long as the app: bring it back with the app.
            self.start_demo()
            return
        if settings.config is None and self.window.current_view() == "sessions" \
                and self.window.model.rowCount() == 0:
            self.window.show_view("settings")  # first run: S3 is what needs doing

    def _config_saved(self, _config: object) -> None:
        self.window.model.set_config_valid(self.panel.config_is_valid())

    def _recovered(self, report: StartReport) -> None:
        self.recovered = report.exported
        notes = report.notes
        for note in notes:
            log.info("%s", note)
        if notes:
            self.window.statusBar().showMessage(notes[-1], 10_000)
        self.window.sessionsLoaded.connect(self._first_list, type=_single_shot())
        self.window.reload_sessions()

    def _first_list(self, _count: int) -> None:
        if self.start_queue:
            self._start_queue()
            # Recordings finished by recovery go up like any other recording after Stop.
            self.window.auto_upload(self.recovered, "after recovery")
        # After the list is on screen, so it never waits for this.
        run_in_background(warm_up, lambda _result: self._warmed_up(),
                          lambda _exc: self._warmed_up(), "sessionrec-warm-up")

    def _warmed_up(self) -> None:
        # pynput is loaded now, so registering the saved hotkey does not stall the window.
        self.window.register_saved_hotkey()
        self.ready.emit()

    def _start_queue(self) -> None:
        from app.upload.qt_host import QueueHost

        host = QueueHost.try_open(self.data_dir, engine=self.engine, parent=self)
        if host is None:
            remote = RemoteQueue(self.data_dir, self)
            remote.answered.connect(self._remote_answer)
            self.window.attach_queue(remote)
            self.window.statusBar().showMessage(
                "Another sessionrec process runs the upload queue; this window hands requests to it.",
                10_000)
            self.remote_poll = QTimer(self)
            self.remote_poll.setInterval(2000)
            self.remote_poll.timeout.connect(self.window.reload_sessions)
            self.remote_poll.start()
            return
        self.host = host
        self.window.attach_queue(host.queue)
        host.start(restore=True)

    def _remote_answer(self, session_id: str, answer: object) -> None:
        if answer:
            self.window.statusBar().showMessage(str(answer), 8000)
        self.window.refresh_session(session_id)

    # --- the local test bucket ---------------------------------------------------------------
    def start_demo(self) -> None:
        self.panel.demo_button.setEnabled(False)
        self.panel.set_demo_status("Starting a local test bucket…")

        def work() -> LocalBucket:
            return LocalBucket.start(self.data_dir)

        def done(demo: Any) -> None:
            self.demo = demo
            self.panel.load(self._demo_loaded)

        def failed(exc: BaseException) -> None:
            self.panel.demo_button.setEnabled(True)
            self.panel.set_demo_status(f"The local test bucket could not start: {exc}")

        run_in_background(work, done, failed, "sessionrec-demo-s3")

    def _demo_loaded(self, settings: LoadedSettings) -> None:
        self._settings_loaded(settings)
        demo = self.demo
        if demo is not None:
            self.panel.set_demo_status(
                f"Using a LOCAL, TEMPORARY test bucket ({demo.bucket} at {demo.endpoint_url}): it "
                "runs only while this app is open, and everything uploaded to it is lost when the "
                "app quits.")

    def stop(self) -> None:
        if self.remote_poll is not None:
            self.remote_poll.stop()
        if self.host is not None:
            self.host.close()
            self.host = None
        if self.demo is not None:
            self.demo.stop()
            self.demo = None


def _single_shot() -> Any:
    from PySide6.QtCore import Qt

    return Qt.ConnectionType.SingleShotConnection
