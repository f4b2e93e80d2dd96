"""Drives one `SessionRecorder` for the window, keeping every blocking call off the GUI thread.

Start (probing the screen, opening the encoder), pause/resume (they save the
meta), stop (joins the threads) and the zip export all run on the controller's own
`GuiExecutor`, one at a time in order (a pause never overtakes the start it follows),
apart from the window's executor, so a long export never holds up the list. The GUI
thread samples the recorder's counters four times a second: plain attribute reads that
change with every frame, so a signal per change would cost more than the sampling. The live
preview comes from the recorder's preview sampler thread as `previewReady` signals (queued to
the GUI thread).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui_executor import GuiExecutor
from app.recorder.options import RecordingOptions
from app.widgets.record_bar import RecordState, RecordStats

log = logging.getLogger(__name__)


class RecorderLike(Protocol):
    failed: threading.Event

    def start(self) -> str: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> Any: ...
    def export(self, cancel: threading.Event | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> Any: ...
    def close(self) -> None: ...
    def status(self) -> Any: ...
    def latest_frame(self) -> Any: ...


RecorderFactory = Callable[[Path, RecordingOptions], RecorderLike]


def default_recorder_factory(data_dir: Path, options: RecordingOptions) -> RecorderLike:
    from app.recorder.session_recorder import SessionRecorder

    recorder: RecorderLike = SessionRecorder(data_dir, options.settings())
    return recorder


class RecordingController(QObject):
    stateChanged = Signal(str)          # RecordState
    statsChanged = Signal(object)       # RecordStats
    healthChanged = Signal(object)      # str | None: the recorder's error sentence
    sessionStarted = Signal(str)        # sessionId: its folder exists now
    sessionStopped = Signal(str)        # sessionId: files complete, export starting
    exportFinished = Signal(str, object)  # sessionId, error sentence or None
    previewReady = Signal(object)       # PreviewImage, about twice a second while recording

    def __init__(self, data_dir: Path, fps: int | None = None,
                 factory: RecorderFactory = default_recorder_factory,
                 parent: QObject | None = None,
                 options: RecordingOptions | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.options = options or RecordingOptions()
        if fps is not None:
            self.options = dataclasses.replace(self.options, fps=fps)
        self._factory = factory
        self._preview: Any = None
        self._recorder: RecorderLike | None = None
        self.session_id: str | None = None
        self.state: RecordState = "idle"
        self._health: str | None = None
        self._exporting: set[str] = set()
        self._executor = GuiExecutor("sessionrec-recorder", parent=self)
        self._poll = QTimer(self)
        self._poll.setInterval(250)
        self._poll.timeout.connect(self._read_status)

    @property
    def fps(self) -> int:
        return self.options.fps

    def set_options(self, options: RecordingOptions) -> None:
        """The options of the next recording (a running one keeps its own)."""
        self.options = options

    # --- intents --------------------------------------------------------------------------
    def start(self) -> None:
        if self.state != "idle":
            return
        self._set_state("starting")
        self._set_health(None)
        options = self.options

        def work() -> tuple[RecorderLike, str]:
            recorder = self._factory(self.data_dir, options)
            return recorder, recorder.start()

        self._executor.submit(work, self._started, self._start_failed, "record-start")

    def toggle(self) -> None:
        """Start when idle, stop when recording or paused (tray and global hotkey)."""
        if self.state == "idle":
            self.start()
        elif self.state in ("recording", "paused"):
            self.stop()

    def pause(self) -> None:
        recorder = self._recorder
        if recorder is not None and self.state == "recording":
            self._set_state("paused")
            self._executor.submit(recorder.pause, name="record-pause")

    def resume(self) -> None:
        recorder = self._recorder
        if recorder is not None and self.state == "paused":
            self._set_state("recording")
            self._executor.submit(recorder.resume, name="record-resume")

    def stop(self, on_exported: Callable[[], object] | None = None) -> None:
        recorder = self._recorder
        session_id = self.session_id
        if recorder is None or session_id is None or self.state not in ("recording", "paused"):
            return
        self._set_state("stopping")
        self._poll.stop()
        self._stop_preview()
        self._exporting.add(session_id)

        def work() -> str | None:
            try:
                recorder.stop()
                self.sessionStopped.emit(session_id)  # queued to the GUI thread
                try:
                    recorder.export()
                except Exception as exc:  # ExportError carries one sentence
                    log.warning("export of %s failed: %s", session_id, exc)
                    return str(exc) or "The session could not be exported."
                return None
            finally:
                recorder.close()

        def done(error: object) -> None:
            self._exporting.discard(session_id)
            self._final_status(recorder)
            self._recorder = None
            self.session_id = None
            self._set_state("idle")
            self.exportFinished.emit(session_id, error)
            if on_exported is not None:
                on_exported()

        def failed(exc: BaseException) -> None:
            done(str(exc) or "The recording could not be stopped cleanly; it will be recovered.")

        self._executor.submit(work, done, failed, "record-stop")

    # --- state ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Recording, or a stopped session still being written: quitting now would lose work."""
        return self.state != "idle" or bool(self._exporting)

    def _started(self, result: tuple[RecorderLike, str]) -> None:
        self._recorder, self.session_id = result
        self._set_state("recording")
        self.sessionStarted.emit(self.session_id)
        self._poll.start()
        self._read_status()
        self._start_preview(self._recorder)

    def _start_preview(self, recorder: RecorderLike) -> None:
        from app.recorder.preview import PreviewSampler

        # The sampler's thread emits the signal; Qt queues it to the GUI thread's receivers.
        self._preview = PreviewSampler(recorder.latest_frame, self.previewReady.emit)
        self._preview.start()

    def _stop_preview(self) -> None:
        if self._preview is not None:
            self._preview.stop()
            self._preview = None

    def _start_failed(self, exc: BaseException) -> None:
        self._set_state("idle")
        self._set_health(str(exc) or "The recorder could not start.")

    def _read_status(self) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        self._final_status(recorder)
        if recorder.failed.is_set() and self.state in ("recording", "paused"):
            # The recorder gave up (stalled capture, full disk): keep what it has, say why.
            self.stop()

    def _final_status(self, recorder: RecorderLike) -> None:
        try:
            status = recorder.status()
        except Exception:  # a recorder torn down mid-read; the next tick or stop reports
            return
        self.statsChanged.emit(RecordStats(
            elapsed_ms=int(status.t_ms), frames=int(status.frame_count),
            actions=int(status.action_count), screenshots=int(status.screenshot_count),
            dropped_frames=int(status.dropped_frames)))
        self._set_health(status.error)

    def _set_state(self, state: RecordState) -> None:
        self.state = state
        self.stateChanged.emit(state)

    def _set_health(self, error: str | None) -> None:
        if error != self._health or error is None:
            self._health = error
            self.healthChanged.emit(error)
