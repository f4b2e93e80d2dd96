"""The screenshots of a session as a strip of small pictures; clicking one seeks to its frame.

The PNGs are decoded and scaled on one background thread, in order, and each picture is
handed over as soon as it is ready (a queued signal); closing the viewer stops that thread
through a threading.Event.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from app import session_files
from app.playback.session_data import Screenshot
from app.playback.thumbnail import MAX_SCREENSHOT_BYTES, png_to_rgb
from app.playback.timeline import format_session_time

log = logging.getLogger(__name__)

ICON_BOX = (160, 90)


class _Loader(QObject):
    loaded = Signal(int, object)  # position, (QImage, array keeping its pixels)


class ScreenshotStrip(QListWidget):
    screenshotActivated = Signal(int)  # frame index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(*ICON_BOX))
        self.setSpacing(4)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(ICON_BOX[1] + self.fontMetrics().height() + 22)
        self.setAccessibleName("Screenshots")
        self.shots: list[Screenshot] = []
        self._cancel = threading.Event()
        self._loader = _Loader(self)
        self._loader.loaded.connect(self._loaded)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.loaded_count = 0

    def set_screenshots(self, root: Path, shots: list[Screenshot]) -> None:
        self.stop()
        self._cancel = threading.Event()
        self.clear()
        self.shots = list(shots)
        self.loaded_count = 0
        placeholder = QPixmap(*ICON_BOX)
        placeholder.fill(Qt.GlobalColor.darkGray)
        for shot in self.shots:
            label = f"{format_session_time(shot.t_ms)} · {'click' if shot.kind == 'click' else 'periodic'}"
            item = QListWidgetItem(QIcon(placeholder), label)
            item.setToolTip(f"{shot.rel}\nframe {shot.frame}, {format_session_time(shot.t_ms)}")
            self.addItem(item)
        self.setVisible(bool(self.shots))
        if self.shots:
            threading.Thread(target=self._load_all, args=(root, list(self.shots), self._cancel),
                             name="sessionrec-screenshots-strip", daemon=True).start()

    def _load_all(self, root: Path, shots: list[Screenshot], cancel: threading.Event) -> None:
        for position, shot in enumerate(shots):
            if cancel.is_set():
                return
            try:
                rgb = png_to_rgb(session_files.read_bytes(root, shot.rel, MAX_SCREENSHOT_BYTES),
                                 ICON_BOX)
            except Exception as exc:  # an unreadable screenshot keeps its placeholder
                log.info("screenshot %s unreadable: %s", shot.rel, exc)
                continue
            image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1],
                           QImage.Format.Format_RGB888)
            if cancel.is_set():
                return
            try:
                self._loader.loaded.emit(position, (image, rgb))
            except RuntimeError:  # the viewer closed while this picture was being made
                return

    def _loaded(self, position: int, payload: tuple[QImage, np.ndarray]) -> None:
        item = self.item(position)
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(payload[0])))
            self.loaded_count += 1

    def _clicked(self, item: QListWidgetItem) -> None:
        position = self.row(item)
        if 0 <= position < len(self.shots):
            self.screenshotActivated.emit(self.shots[position].frame)

    def stop(self) -> None:
        self._cancel.set()
