"""SessionViewer: watch one session — the video with its overlay, the action timeline, the
screenshots — opened from a card (Play, double-click, Enter) or by `sessionrec view ID`.

The session's files are read on a background thread (`load_viewer_session`), the video is
decoded on the `VideoWorker` thread; this widget only lays things out, forwards what a person
does (play, seek, step, speed, clicking a row or a screenshot) and shows what comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui_executor import GuiExecutor
from app.playback.session_data import ViewerSession, load_viewer_session
from app.playback.timeline import format_session_time
from app.widgets.icons import icon
from app.widgets.screenshot_strip import ScreenshotStrip
from app.widgets.timeline_view import TimelineView
from app.widgets.video_view import VideoView
from app.widgets.video_worker import SPEEDS, ShownFrame, VideoOpened, VideoWorker

log = logging.getLogger(__name__)

STEP_MS = 5000
BANNER_STYLE = ("QLabel#viewerNotes { background: #fff4d6; color: #3d2e00; border: 1px solid #e0b84a;"
                " border-radius: 4px; padding: 6px; }")


class SessionViewer(QWidget):
    loaded = Signal()  # the session's files were read (check `session`)
    frameShown = Signal(object)  # ShownFrame, after it was put on screen
    videoFailed = Signal(str)
    closed = Signal(str)  # sessionId

    def __init__(self, data_dir: Path, session_id: str, parent: QWidget | None = None,
                 executor: GuiExecutor | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.data_dir = data_dir
        self.executor = executor or GuiExecutor(parent=self)
        self.session_id = session_id
        self.session: ViewerSession | None = None
        self.worker: VideoWorker | None = None
        self.current: ShownFrame | None = None
        self.playing = False
        self.last_request = 0
        self._row_request: tuple[int, int] | None = None  # (seek request, the row it was for)
        self.closing = False  # closed (and maybe deleted): late results from threads are dropped
        self.setWindowTitle(f"Session {session_id} — sessionrec")
        self.setWindowIcon(icon("app"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.resize(1280, 800)

        self.notes = QLabel(self)
        self.notes.setObjectName("viewerNotes")
        self.notes.setStyleSheet(BANNER_STYLE)
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.hide()

        self.video = VideoView(self)
        self.video.set_message("Opening the session…")
        self.timeline = TimelineView(self)
        self.timeline.setMinimumWidth(300)
        self.strip = ScreenshotStrip(self)
        self.strip.hide()

        self.back_button = self._button("−5 s", "Back 5 seconds (Left)", lambda: self.skip(-STEP_MS))
        self.frame_back_button = self._button("◀|", "Previous frame (,)", lambda: self.step(-1))
        self.play_button = self._button("Play", "Play or pause (Space)", self.toggle_play)
        self.play_button.setMinimumWidth(self.fontMetrics().horizontalAdvance("Pause") + 32)
        self.frame_forward_button = self._button("|▶", "Next frame (.)", lambda: self.step(1))
        self.forward_button = self._button("+5 s", "Forward 5 seconds (Right)", lambda: self.skip(STEP_MS))
        self.seek_bar = QSlider(Qt.Orientation.Horizontal, self)
        self.seek_bar.setAccessibleName("Position")
        self.seek_bar.setRange(0, 0)
        self.seek_bar.setSingleStep(1000)
        self.seek_bar.setPageStep(STEP_MS)
        self.seek_bar.valueChanged.connect(self._seek_bar_moved)
        self.time_label = QLabel("0:00.0 / 0:00.0", self)
        self.time_label.setAccessibleName("Session time")
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00:00.0 / 00:00:00.0"))
        self.speed_box = QComboBox(self)
        self.speed_box.setAccessibleName("Speed")
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(self._speed_changed)
        self.controls = [self.back_button, self.frame_back_button, self.play_button,
                         self.frame_forward_button, self.forward_button, self.seek_bar, self.speed_box]

        controls = QHBoxLayout()
        for widget in self.controls[:5]:
            controls.addWidget(widget)
        controls.addWidget(self.seek_bar, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.speed_box)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.video, 1)
        left_layout.addLayout(controls)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(self.notes)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.strip)

        self.timeline.rowActivated.connect(self.seek_to_row)
        self.strip.screenshotActivated.connect(self.seek_to_frame)
        self.video.sizeChanged.connect(self._video_resized)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(40)
        self._resize_timer.timeout.connect(self._send_size)
        keys: list[tuple[Qt.Key, Callable[[], object]]] = [
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Left, lambda: self.skip(-STEP_MS)),
            (Qt.Key.Key_Right, lambda: self.skip(STEP_MS)),
            (Qt.Key.Key_Comma, lambda: self.step(-1)),
            (Qt.Key.Key_Period, lambda: self.step(1)),
            (Qt.Key.Key_Home, lambda: self.seek_to_frame(0)),
            (Qt.Key.Key_End, self._seek_to_end),
        ]
        for key, action in keys:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(action)
        close = QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self)
        close.activated.connect(self.close)
        self._set_controls_enabled(False)

    def _button(self, text: str, tip: str, slot: object) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must stay play/pause
        button.clicked.connect(slot)
        return button

    # --- loading ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Read the session off the GUI thread; the window fills in when it arrives."""
        data_dir, session_id = self.data_dir, self.session_id
        self.executor.submit(lambda: load_viewer_session(data_dir, session_id), self._loaded,
                             self._load_failed, name="viewer-load")

    def _load_failed(self, exc: BaseException) -> None:
        if self.closing:
            return
        self.video.set_message(f"The session could not be read ({type(exc).__name__}: {exc}).")
        self.loaded.emit()

    def _loaded(self, session: ViewerSession) -> None:
        if self.closing:
            return
        self.session = session
        if session.problem:
            self.video.set_message(session.problem)
            self._show_notes(session.notes)
            self.loaded.emit()
            return
        self.timeline.set_rows(session.timeline.rows)
        self.video.timeline = session.timeline
        self._show_notes(session.notes)
        frames = session.frames
        if frames.count:
            self.seek_bar.blockSignals(True)
            self.seek_bar.setRange(frames.first_t, frames.last_t)
            self.seek_bar.blockSignals(False)
        self.strip.set_screenshots(session.root, session.screenshots)
        if session.video_rel is not None:
            self.video.set_message(None)
            self.worker = VideoWorker(session.root, session.video_rel, frames, self)
            self.worker.opened.connect(self._video_opened)
            self.worker.frameReady.connect(self._frame_ready)
            self.worker.failed.connect(self._video_failed)
            self.worker.playingChanged.connect(self._playing_changed)
            box = self.video.device_box()
            self.worker.start((box.width(), box.height()))
        else:
            self.video.set_message("There is no video to show for this session.")
        self.loaded.emit()

    def _show_notes(self, notes: list[str]) -> None:
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))

    def notes_text(self) -> str:
        return self.notes.text() if self.notes.isVisible() else ""

    # --- from the worker --------------------------------------------------------------------------
    def _video_opened(self, info: VideoOpened) -> None:
        if self.session is not None:
            self.video.screen_rect = self.session.screen_rect((info.width, info.height))
        self._set_controls_enabled(True)

    def _frame_ready(self, frame: ShownFrame) -> None:
        if self.worker is not None:
            self.worker.frame_consumed()
        self.current = frame
        frames = self.session.frames if self.session else None
        self.video.set_frame(frame, frames.shown_until(frame.index) if frames and frames.count else None)
        self.seek_bar.blockSignals(True)
        self.seek_bar.setValue(frame.t_ms)
        self.seek_bar.blockSignals(False)
        end = self.session.frames.last_t if self.session else frame.t_ms
        self.time_label.setText(f"{format_session_time(frame.t_ms)} / {format_session_time(end)}")
        if self.session is not None:
            pinned = self._row_request
            if pinned is not None and pinned[0] == frame.request:
                # The frame of a row someone picked: that row stays highlighted (an action's frame
                # can be a little older than the action, when the encoder was a frame behind).
                self.timeline.set_current_row(pinned[1])
            else:
                self.timeline.set_current_row(self.current_row_for(frame))
        self.frameShown.emit(frame)

    def current_row_for(self, frame: ShownFrame) -> int | None:
        """The timeline row of the moment a frame shows: the last action before the next frame."""
        assert self.session is not None
        return self.session.timeline.row_at(self.video.moment_ms)

    def _video_failed(self, sentence: str) -> None:
        text = f"{sentence} The session's actions are still listed beside."
        self.video.set_message(text)
        self._set_controls_enabled(False)
        self.playing = False
        self.play_button.setText("Play")
        self.videoFailed.emit(text)

    def _playing_changed(self, playing: bool) -> None:
        self.playing = playing
        self.play_button.setText("Pause" if playing else "Play")

    # --- what a person does -----------------------------------------------------------------------
    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in self.controls:
            widget.setEnabled(enabled)

    def seek_to_frame(self, index: int) -> int:
        """Show frame `index` (clamped to the video); returns the request id of that frame."""
        if self.worker is None or self.session is None:
            return 0
        last = max(0, self.session.frames.count - 1)
        self.last_request = self.worker.seek_frame(max(0, min(index, last)))
        return self.last_request

    def seek_to_row(self, row: int) -> None:
        if self.session is None or not 0 <= row < len(self.session.timeline.rows):
            return
        self.timeline.set_current_row(row)
        entry = self.session.timeline.rows[row]
        self._row_request = (self.seek_to_frame(entry.frame), row)

    def seek_to_t(self, t_ms: int) -> int:
        if self.session is None:
            return 0
        return self.seek_to_frame(self.session.frames.index_at(t_ms))

    def _seek_to_end(self) -> None:
        if self.session is not None:
            self.seek_to_frame(self.session.frames.count - 1)

    def _seek_bar_moved(self, value: int) -> None:
        self.seek_to_t(value)

    def skip(self, delta_ms: int) -> None:
        if self.current is not None:
            self.seek_to_t(self.current.t_ms + delta_ms)

    def step(self, delta: int) -> None:
        if self.worker is not None:
            self.last_request = self.worker.step(delta)

    def speed(self) -> float:
        return float(self.speed_box.currentData())

    def _speed_changed(self, _position: int) -> None:
        if self.worker is not None:
            self.worker.set_speed(self.speed())

    def toggle_play(self) -> None:
        if self.worker is None or not self.play_button.isEnabled():
            return
        if self.playing:
            self.worker.pause()
            return
        if self.session is not None and self.current is not None \
                and self.current.index >= self.session.frames.count - 1:
            self.seek_to_frame(0)  # at the end: play from the start
        self.worker.play(self.speed())

    def play(self) -> None:
        if not self.playing:
            self.toggle_play()

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()

    def _video_resized(self, _size: QSize) -> None:
        # A resize sends many sizes: the worker gets the last one, once things settle.
        self._resize_timer.start()

    def _send_size(self) -> None:
        if self.worker is not None:
            box = self.video.device_box()
            self.worker.set_size((box.width(), box.height()))

    # --- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        self.closed.emit(self.session_id)
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.closing = True
        self.strip.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
