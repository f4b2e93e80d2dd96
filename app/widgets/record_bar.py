"""RecordBar: Record / Pause / Stop, elapsed time, live counts and the recorder's health.

It only displays what it is told and emits intents; the recording controller
does the work off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from app.widgets.icons import icon
from app.widgets.session_card import error_colour

RecordState = Literal["idle", "starting", "recording", "paused", "stopping"]


@dataclass(frozen=True)
class RecordStats:
    elapsed_ms: int = 0
    frames: int = 0
    actions: int = 0
    screenshots: int = 0
    dropped_frames: int = 0


def format_elapsed(ms: int) -> str:
    seconds = max(0, ms // 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class RecordBar(QFrame):
    recordRequested = Signal()
    pauseRequested = Signal()
    resumeRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state: RecordState = "idle"
        self.record_button = QPushButton(icon("record"), "&Record", self)
        self.pause_button = QPushButton(icon("pause"), "&Pause", self)
        self.stop_button = QPushButton(icon("stop"), "S&top", self)
        for button in (self.record_button, self.pause_button, self.stop_button):
            button.setIconSize(QSize(20, 20))
            button.setMinimumHeight(button.sizeHint().height() + 8)
        self.record_button.clicked.connect(self.recordRequested)
        self.pause_button.clicked.connect(self._pause_clicked)
        self.stop_button.clicked.connect(self.stopRequested)

        self.elapsed_label = QLabel(format_elapsed(0), self)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.2)
        big.setBold(True)
        self.elapsed_label.setFont(big)
        self.elapsed_label.setAccessibleName("Elapsed time")
        self.state_label = QLabel("Ready to record", self)
        self.frames_label = QLabel(self)
        self.actions_label = QLabel(self)
        self.screenshots_label = QLabel(self)
        self.dropped_label = QLabel(self)
        self.health_dot = QLabel(self)
        self.health_label = QLabel(self)
        self.health_label.setWordWrap(True)
        self.health_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        grid = QGridLayout()
        grid.addWidget(self.elapsed_label, 0, 0, 2, 1)
        grid.addWidget(self.state_label, 0, 1, 1, 4)
        grid.addWidget(self.frames_label, 1, 1)
        grid.addWidget(self.actions_label, 1, 2)
        grid.addWidget(self.screenshots_label, 1, 3)
        grid.addWidget(self.dropped_label, 1, 4)
        grid.setColumnStretch(5, 1)
        grid.setHorizontalSpacing(18)

        health = QHBoxLayout()
        health.addWidget(self.health_dot)
        health.addWidget(self.health_label, 1)

        layout = QGridLayout(self)
        layout.addLayout(buttons, 0, 0)
        layout.addLayout(grid, 1, 0)
        layout.addLayout(health, 2, 0)
        self.set_stats(RecordStats())
        self.set_health(None)
        self.set_state("idle")

    def _pause_clicked(self) -> None:
        if self.state == "paused":
            self.resumeRequested.emit()
        else:
            self.pauseRequested.emit()

    def set_state(self, state: RecordState) -> None:
        self.state = state
        self.record_button.setEnabled(state == "idle")
        self.pause_button.setEnabled(state in ("recording", "paused"))
        self.stop_button.setEnabled(state in ("recording", "paused"))
        paused = state == "paused"
        self.pause_button.setText("Res&ume" if paused else "&Pause")
        self.pause_button.setIcon(icon("record" if paused else "pause"))
        self.state_label.setText({
            "idle": "Ready to record",
            "starting": "Starting the recorder…",
            "recording": "● Recording",
            "paused": "Paused",
            "stopping": "Stopping and exporting the session…",
        }[state])
        live = state in ("recording", "paused")
        self.state_label.setStyleSheet(
            f"font-weight: bold; color: {error_colour(self.palette()).name()};" if state == "recording"
            else "font-weight: bold;" if live else "")
        if not self.health_label.styleSheet():  # keep an error visible after the recording stops
            self.set_health(None)

    def set_stats(self, stats: RecordStats) -> None:
        self.elapsed_label.setText(format_elapsed(stats.elapsed_ms))
        self.frames_label.setText(f"{stats.frames} frames")
        self.actions_label.setText(f"{stats.actions} actions")
        self.screenshots_label.setText(f"{stats.screenshots} screenshots")
        self.dropped_label.setText(f"{stats.dropped_frames} dropped" if stats.dropped_frames else "")

    def set_health(self, error: str | None) -> None:
        """None = healthy; otherwise the recorder's error sentence, shown at once."""
        if error:
            colour = error_colour(self.palette()).name()
            self.health_dot.setPixmap(icon("health-bad").pixmap(16, 16))
            self.health_label.setText(error)
            self.health_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        else:
            self.health_dot.setPixmap(icon("health-ok").pixmap(16, 16))
            self.health_label.setText("Recorder healthy" if self.state in ("recording", "paused")
                                      else "Recorder idle")
            self.health_label.setStyleSheet("")
        self.health_label.setAccessibleName("Recorder health")

    def health_text(self) -> str:
        return self.health_label.text()
