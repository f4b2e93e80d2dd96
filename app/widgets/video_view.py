"""VideoView: paints the decoded frame and the overlay (click markers, pointer, key captions).

The picture arrives already scaled to fit (the worker converts it at this widget's size in
device pixels), so painting is one blit. The overlay is drawn from the timeline at the
frame's session time: a ring where a click happened (from 0.25 s before to 0.25 s after it),
the pointer position from the move actions, and the keys being typed as a caption.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.playback.timeline import Timeline
from app.widgets.video_worker import ShownFrame

# The click marker: an opaque ring in a colour screens rarely use, with a white edge.
MARKER_COLOUR = QColor("#ff2d87")
MARKER_EDGE = QColor("#ffffff")
MARKER_RADIUS = 14.0
MARKER_WIDTH = 4.0
RIGHT_CLICK_COLOUR = QColor("#ffb020")
POINTER_FILL = QColor("#ffffff")
POINTER_EDGE = QColor("#111111")
CAPTION_BACK = QColor(0, 0, 0, 190)
CAPTION_TEXT = QColor("#ffffff")


class VideoView(QWidget):
    sizeChanged = Signal(QSize)  # the box a frame should fit, in device pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setAccessibleName("Session video")
        self.frame: ShownFrame | None = None
        # The session time the overlay shows: the last moment the frame is on screen, so the
        # pointer and captions include what happened until the next frame replaces it.
        self.moment_ms = 0
        self.timeline: Timeline | None = None
        # The screen area the video shows (x, y, width, height), for mapping action positions.
        self.screen_rect: tuple[int, int, int, int] | None = None
        self.message: str | None = None
        self.show_overlay = True

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def device_box(self) -> QSize:
        ratio = self.devicePixelRatioF()
        return QSize(max(2, round(self.width() * ratio)), max(2, round(self.height() * ratio)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.sizeChanged.emit(self.device_box())

    def set_frame(self, frame: ShownFrame, moment_ms: int | None = None) -> None:
        self.frame = frame
        self.moment_ms = frame.t_ms if moment_ms is None else moment_ms
        self.update()

    def set_message(self, text: str | None) -> None:
        self.message = text
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the picture is drawn, in widget coordinates (centred, aspect kept)."""
        if self.frame is None:
            return QRectF()
        ratio = self.devicePixelRatioF()
        image = self.frame.image
        width, height = image.width() / ratio, image.height() / ratio
        # Normally the picture was made to fit exactly; while resizing it is scaled to fit.
        scale = min(self.width() / width, self.height() / height)
        width, height = width * scale, height * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def map_screen_point(self, x: int, y: int) -> QPointF | None:
        """A position in screen pixels (as actions record it) -> widget coordinates."""
        if self.frame is None or self.screen_rect is None:
            return None
        sx, sy, sw, sh = self.screen_rect
        rect = self.picture_rect()
        return QPointF(rect.x() + (x - sx + 0.5) * rect.width() / sw,
                       rect.y() + (y - sy + 0.5) * rect.height() / sh)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101010"))
        if self.frame is not None:
            painter.drawImage(self.picture_rect(), self.frame.image)
            if self.show_overlay and self.timeline is not None:
                self._paint_overlay(painter, self.moment_ms)
        if self.message:
            self._paint_message(painter, self.message)
        painter.end()

    def _paint_overlay(self, painter: QPainter, t_ms: int) -> None:
        timeline = self.timeline
        assert timeline is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.save()
        painter.setClipRect(self.picture_rect())
        pointer = timeline.pointer_at(t_ms)
        if pointer is not None and (point := self.map_screen_point(*pointer)) is not None:
            painter.setPen(QPen(POINTER_EDGE, 1.5))
            painter.setBrush(POINTER_FILL)
            painter.drawEllipse(point, 4.5, 4.5)
        for mark in timeline.clicks_near(t_ms):
            point = self.map_screen_point(mark.x, mark.y)
            if point is None:
                continue
            colour = RIGHT_CLICK_COLOUR if mark.button == "right" else MARKER_COLOUR
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(MARKER_EDGE, MARKER_WIDTH + 3))
            painter.drawEllipse(point, MARKER_RADIUS, MARKER_RADIUS)
            painter.setPen(QPen(colour, MARKER_WIDTH))
            painter.drawEllipse(point, MARKER_RADIUS, MARKER_RADIUS)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(point, 3.0, 3.0)
        painter.restore()
        caption = timeline.caption_at(t_ms)
        if caption:
            self._paint_caption(painter, caption[-60:])

    def _paint_caption(self, painter: QPainter, text: str) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(11.0, font.pointSizeF() * 1.5))
        font.setBold(True)
        fm = QFontMetrics(font)
        pad = fm.height() // 3
        rect = self.picture_rect().toRect()
        width = min(fm.horizontalAdvance(text) + 4 * pad, rect.width() - 2 * pad)
        box = QRect(rect.center().x() - width // 2, rect.bottom() - fm.height() - 4 * pad, width,
                    fm.height() + 2 * pad)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(CAPTION_BACK)
        painter.drawRoundedRect(QRectF(box), pad, pad)
        painter.setFont(font)
        painter.setPen(CAPTION_TEXT)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter,
                         fm.elidedText(text, Qt.TextElideMode.ElideLeft, box.width() - 2 * pad))

    def _paint_message(self, painter: QPainter, text: str) -> None:
        painter.setPen(QColor("#f0f0f0"))
        rect = self.rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
