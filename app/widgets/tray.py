"""The tray icon: Start/Stop recording, Show window, the upload summary, and notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.widgets.icons import icon


class Tray(QObject):
    toggleRecordingRequested = Signal()
    showWindowRequested = Signal()
    quitRequested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon("tray-idle"), self)
        self.menu = QMenu()
        self.record_action = QAction(icon("record"), "Start recording", self.menu)
        self.record_action.triggered.connect(self.toggleRecordingRequested)
        self.show_action = QAction("Show window", self.menu)
        self.show_action.triggered.connect(self.showWindowRequested)
        self.summary_action = QAction("No uploads", self.menu)
        self.summary_action.setEnabled(False)  # information only
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.triggered.connect(self.quitRequested)
        self.menu.addAction(self.record_action)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.summary_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.setToolTip("sessionrec")
        self.icon.activated.connect(self._activated)
        self.notifications: list[tuple[str, str]] = []  # what was shown, for tests and the log

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        if self.available():
            self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.showWindowRequested.emit()

    def set_recording(self, recording: bool) -> None:
        self.record_action.setText("Stop recording" if recording else "Start recording")
        self.record_action.setIcon(icon("stop" if recording else "record"))
        self.icon.setIcon(icon("tray-recording" if recording else "tray-idle"))

    def set_summary(self, text: str) -> None:
        self.summary_action.setText(text)
        self.icon.setToolTip(f"sessionrec — {text}")

    def notify(self, title: str, message: str, error: bool = False) -> None:
        self.notifications.append((title, message))
        if self.available() and self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            kind = QSystemTrayIcon.MessageIcon.Warning if error else QSystemTrayIcon.MessageIcon.Information
            self.icon.showMessage(title, message, kind, 8000)
