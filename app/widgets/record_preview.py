"""RecordPreview: what is being recorded, as a small live picture.

While recording it shows the newest frame (sent twice a second by the recorder's preview
sampler, through a queued signal), scaled to fit. When one monitor of several is recorded, a map
of the monitors in the corner outlines the recorded one; it is shown when idle too, so the
choice can be checked before recording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.models import ScreenRect
from app.recorder.monitors import ALL, Monitor
from app.widgets.session_card import error_colour

if TYPE_CHECKING:
    from app.recorder.preview import PreviewImage

MARGIN = 8


class RecordPreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Recording preview")
        self.setMinimumSize(240, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._monitors: list[Monitor] = []
        self._chosen = "1"
        self._live = False
        self._image: QImage | None = None
        self.images_shown = 0
        self.last_index: int | None = None

    def sizeHint(self) -> QSize:
        return QSize(480, 300)

    # --- what the window tells it ----------------------------------------------------------
    def set_monitors(self, monitors: list[Monitor]) -> None:
        self._monitors = monitors
        self.update()

    def set_chosen(self, key: str) -> None:
        self._chosen = key
        self.update()

    def set_live(self, live: bool) -> None:
        self._live = live
        if not live:
            self._image = None
            self.last_index = None
        self.update()

    @Slot(object)
    def show_preview(self, image: PreviewImage) -> None:
        """A PreviewImage from the sampler thread (queued to the GUI thread)."""
        if not self._live:
            return
        # Format_RGB32 is BGRA in memory on little-endian machines: the bytes as they are.
        wrapped = QImage(image.bgra, image.width, image.height, image.width * 4,
                         QImage.Format.Format_RGB32)
        self._image = wrapped.copy()  # owns its pixels; the bytes object may go
        self.last_index = image.index
        self.images_shown += 1
        self.update()

    def outlined_monitor(self) -> str | None:
        """The key of the monitor drawn outlined among others, or None (tests read this)."""
        shown = [m for m in self._monitors if m.key != ALL]
        if len(shown) > 1 and self._chosen != ALL and any(m.key == self._chosen for m in shown):
            return self._chosen
        return None

    # --- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(palette.ColorRole.Base))
        area = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        monitors = [m for m in self._monitors if m.key != ALL]
        accent = error_colour(palette) if self._live else palette.color(palette.ColorRole.Highlight)
        size = self._image.size() if self._image is not None else None
        whole = self._chosen_rect()
        if size is None and whole is not None:
            size = QSize(whole.width, whole.height)
        # The recorded picture as large as fits; with one monitor of several, a map of the
        # monitors in a corner shows which one it is.
        target = _fit_size(size, area) if size is not None else area
        self._draw_picture(painter, target)
        if self._chosen == ALL and len(monitors) > 1 and whole is not None:
            # The monitors inside the recorded desktop, thin, so the layout is visible.
            to_widget = _fit(whole, target)
            painter.setPen(QPen(palette.color(palette.ColorRole.Mid), 1))
            for monitor in monitors:
                painter.drawRect(to_widget(monitor.rect))
        painter.setPen(QPen(accent if self._live else palette.color(palette.ColorRole.Mid), 2))
        painter.drawRect(target.adjusted(1, 1, -1, -1))
        if not self._live:
            painter.setPen(palette.color(palette.ColorRole.PlaceholderText))
            painter.drawText(target.adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "What is recorded appears here while recording.")
        outlined = self.outlined_monitor()
        if outlined is not None:
            self._draw_monitor_map(painter, monitors, outlined, target, accent)
        painter.end()

    def _draw_monitor_map(self, painter: QPainter, monitors: list[Monitor], outlined: str,
                          picture: QRect, accent: QColor) -> None:
        palette = self.palette()
        layout = _bounds([m.rect for m in monitors])
        width = max(96, min(180, picture.width() // 5))
        height = max(40, round(width * layout.height / max(1, layout.width)))
        below = self.rect().bottom() - MARGIN - picture.bottom()
        if below >= height + 16:  # room under the picture: the map goes there
            box = QRect(picture.right() - width - 8, picture.bottom() + 8, width + 8, height + 8)
        else:  # over the picture's corner
            box = QRect(picture.right() - width - 14, picture.bottom() - height - 14,
                        width + 8, height + 8)
        backdrop = QColor(palette.color(palette.ColorRole.Window))
        backdrop.setAlpha(225)
        painter.fillRect(box, backdrop)
        to_widget = _fit(layout, box.adjusted(4, 4, -4, -4))
        for monitor in monitors:
            rect = to_widget(monitor.rect).adjusted(1, 1, -1, -1)
            chosen = monitor.key == outlined
            painter.fillRect(rect, accent.lighter(170) if chosen else palette.color(palette.ColorRole.Mid))
            painter.setPen(QPen(accent, 2) if chosen else QPen(palette.color(palette.ColorRole.Dark), 1))
            painter.drawRect(rect)
            painter.setPen(palette.color(palette.ColorRole.WindowText))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, monitor.key)

    def _draw_picture(self, painter: QPainter, target: QRect) -> None:
        if self._image is not None:
            painter.drawImage(target, self._image)
        else:
            painter.fillRect(target, self.palette().color(self.palette().ColorRole.AlternateBase))

    def _chosen_rect(self) -> ScreenRect | None:
        return next((m.rect for m in self._monitors if m.key == self._chosen), None)


def _bounds(rects: list[ScreenRect]) -> ScreenRect:
    left = min(r.x for r in rects)
    top = min(r.y for r in rects)
    right = max(r.x + r.width for r in rects)
    bottom = max(r.y + r.height for r in rects)
    return ScreenRect(left, top, right - left, bottom - top)


def _fit_size(size: QSize, area: QRect) -> QRect:
    """The largest rectangle of `size`'s aspect ratio centred in `area`."""
    if size.width() <= 0 or size.height() <= 0:
        return area
    scale = min(area.width() / size.width(), area.height() / size.height())
    width, height = round(size.width() * scale), round(size.height() * scale)
    return QRect(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2,
                 width, height)


def _fit(space: ScreenRect, area: QRect) -> Callable[[ScreenRect], QRect]:
    """Maps screen rectangles inside `space` into `area`, keeping the aspect ratio."""
    frame = _fit_size(QSize(space.width, space.height), area)
    scale = frame.width() / space.width if space.width else 1.0

    def to_widget(rect: ScreenRect) -> QRect:
        return QRectF(frame.x() + (rect.x - space.x) * scale, frame.y() + (rect.y - space.y) * scale,
                      rect.width * scale, rect.height * scale).toRect()

    return to_widget
