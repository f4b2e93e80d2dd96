"""SessionCard: how one session is drawn in the list, and where its buttons are.

The list paints cards with this delegate instead of creating a widget per
session: 2,000 sessions cost 2,000 small records, not 2,000 widget trees, and
only the visible cards are ever painted. Buttons are drawn with the platform
style (so they follow the palette and DPI) and hit-tested by the view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QWidget,
)

from app.format import human_duration, human_size
from app.models import SessionListItem
from app.session_texts import shown_title
from app.upload.session.progress import Progress
from app.widgets.card_state import (
    ACTIONS,
    BadgeColour,
    CardAction,
    CardButtons,
    card_buttons,
    progress_fraction,
    progress_text,
    status_badge,
    status_line,
)
from app.widgets.session_model import Role

_Index = QModelIndex | QPersistentModelIndex

# Badge fill and text: chosen to be readable on both light and dark palettes.
BADGE_COLOURS: dict[BadgeColour, tuple[str, str]] = {
    "grey": ("#6b7280", "#ffffff"),
    "amber": ("#f59e0b", "#1f2937"),
    "blue": ("#2563eb", "#ffffff"),
    "green": ("#15803d", "#ffffff"),
    "red": ("#dc2626", "#ffffff"),
}
ERROR_LIGHT = "#b91c1c"
ERROR_DARK = "#f87171"


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_colour(palette: QPalette) -> QColor:
    return QColor(ERROR_DARK if is_dark(palette) else ERROR_LIGHT)


def format_when(epoch_ms: int) -> str:
    if epoch_ms <= 0:
        return "Unknown date"
    return time.strftime("%a %d %b %Y, %H:%M:%S", time.localtime(epoch_ms / 1000))


@dataclass(frozen=True)
class CardGeometry:
    """Where everything of one card goes, from the font metrics (so it scales with DPI and font)."""

    card: QRect
    thumbnail: QRect
    title: QRect
    details: QRect
    status_line: QRect
    buttons: list[tuple[CardAction, QRect]]
    edit: QRect  # the pencil before the title: edit the title and note


class CardMetrics:
    def __init__(self, font: QFont) -> None:
        fm = QFontMetrics(font)
        self.line = fm.height()
        self.pad = max(6, round(self.line * 0.6))
        self.gap = max(3, round(self.line * 0.3))
        self.margin = max(3, round(self.line * 0.3))
        self.button_h = self.line + max(8, round(self.line * 0.6))
        self.fm = fm

    def card_height(self) -> int:
        return 2 * self.pad + 3 * self.line + 3 * self.gap + self.button_h

    def thumbnail_size(self) -> QSize:
        height = 3 * self.line + 3 * self.gap + self.button_h
        return QSize(round(height * 16 / 9), height)

    def button_width(self, action: CardAction) -> int:
        return self.fm.horizontalAdvance(ACTIONS[action].label) + 2 * self.pad + 4

    def geometry(self, rect: QRect, actions: list[CardAction]) -> CardGeometry:
        card = rect.adjusted(self.margin, self.margin, -self.margin, -self.margin)
        inner = card.adjusted(self.pad, self.pad, -self.pad, -self.pad)
        thumbnail = QRect(inner.topLeft(), self.thumbnail_size())
        text_left = thumbnail.right() + 1 + self.pad
        text_width = inner.right() + 1 - text_left
        y = inner.top()
        edit = QRect(text_left, y - 2, self.line + 4, self.line + 4)
        title = QRect(edit.right() + 1 + self.gap, y, inner.right() - edit.right() - self.gap,
                      self.line)
        y += self.line + self.gap
        details = QRect(text_left, y, text_width, self.line)
        y += self.line + self.gap
        status_line = QRect(text_left, y, text_width, self.line)
        y += self.line + self.gap
        buttons: list[tuple[CardAction, QRect]] = []
        x = inner.right() + 1
        for action in actions:  # first action is rightmost
            width = self.button_width(action)
            x -= width
            buttons.append((action, QRect(x, y, width, self.button_h)))
            x -= self.gap * 2
        return CardGeometry(card, thumbnail, title, details, status_line, buttons, edit)


class SessionCardDelegate(QStyledItemDelegate):
    """Paints a session card; `hit_test` tells the view which button is under the mouse."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hovered: tuple[int, CardAction] | None = None
        self.pressed: tuple[int, CardAction] | None = None
        self._metrics: tuple[QFont, CardMetrics] | None = None

    def metrics(self, font: QFont) -> CardMetrics:
        if self._metrics is None or self._metrics[0] != font:
            self._metrics = (QFont(font), CardMetrics(font))
        return self._metrics[1]

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        metrics = self.metrics(option.font)
        return QSize(metrics.fm.averageCharWidth() * 60 + metrics.thumbnail_size().width(),
                     metrics.card_height())

    @staticmethod
    def buttons_for(index: _Index) -> CardButtons:
        item: SessionListItem = index.data(Role.ITEM)
        return card_buttons(item, bool(index.data(Role.CONFIG_VALID)))

    def geometry(self, option_rect: QRect, font: QFont, index: _Index) -> CardGeometry:
        return self.metrics(font).geometry(option_rect, self.buttons_for(index).visible_actions())

    def hit_test(self, option_rect: QRect, font: QFont, index: _Index,
                 pos: object) -> CardAction | None:
        geo = self.geometry(option_rect, font, index)
        if geo.edit.contains(pos):  # type: ignore[call-overload]
            return "edit"
        for action, rect in geo.buttons:
            if rect.contains(pos):  # type: ignore[call-overload]
                return action
        return None

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        item: SessionListItem | None = index.data(Role.ITEM)
        if item is None:
            return
        live: Progress | None = index.data(Role.LIVE)
        note: str | None = index.data(Role.NOTE)
        buttons = self.buttons_for(index)
        rect: QRect = option.rect
        font: QFont = option.font
        palette: QPalette = option.palette
        state = option.state
        widget: QWidget | None = option.widget
        metrics = self.metrics(font)
        geo = metrics.geometry(rect, buttons.visible_actions())

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # Card background and border; the current card gets the highlight colour as its border.
        selected = bool(state & QStyle.StateFlag.State_Selected)
        border = palette.color(QPalette.ColorRole.Highlight) if selected else palette.color(
            QPalette.ColorRole.Mid)
        painter.setPen(QPen(border, 2 if selected else 1))
        base = palette.color(QPalette.ColorRole.Base)
        if selected:  # a light tint, so a multi-selection reads at a glance
            tint = palette.color(QPalette.ColorRole.Highlight)
            base = QColor(round(base.red() * 0.88 + tint.red() * 0.12),
                          round(base.green() * 0.88 + tint.green() * 0.12),
                          round(base.blue() * 0.88 + tint.blue() * 0.12))
        painter.setBrush(base)
        painter.drawRoundedRect(QRectF(geo.card).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        text_colour = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)

        self._paint_thumbnail(painter, palette, geo.thumbnail, index.data(Role.THUMBNAIL), item)

        # Title: date and time, then the badge on the right.
        badge = status_badge(item)
        fill, ink = BADGE_COLOURS[badge.colour]
        bold = QFont(font)
        bold.setBold(True)
        bold_fm = QFontMetrics(bold)
        badge_w = bold_fm.horizontalAdvance(badge.text) + metrics.pad * 2
        badge_rect = QRect(geo.title.right() - badge_w + 1, geo.title.top() - 2, badge_w,
                           geo.title.height() + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(QRectF(badge_rect), badge_rect.height() / 2, badge_rect.height() / 2)
        painter.setFont(bold)
        painter.setPen(QColor(ink))
        painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, badge.text)

        self._paint_edit(painter, palette, geo.edit, index.row(), buttons.edit, font)
        title_rect = QRect(geo.title)
        title_rect.setRight(badge_rect.left() - metrics.pad)
        when = format_when(item.created_at)
        if item.damaged:
            when = f"⚠ Damaged · {when}"
        elif item.recovered:
            when = f"{when} · recovered"
        painter.setPen(error_colour(palette) if item.damaged else text_colour)
        align_left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        title = shown_title(item.title)
        if title:
            # The title first (bold), the date after it in the normal weight, muted.
            title_text = bold_fm.elidedText(title, Qt.TextElideMode.ElideRight,
                                            max(title_rect.width() * 2 // 3,
                                                title_rect.width() - metrics.fm.horizontalAdvance(
                                                    " · " + when)))
            painter.drawText(title_rect, align_left, title_text)
            rest = QRect(title_rect)
            rest.setLeft(title_rect.left() + bold_fm.horizontalAdvance(title_text))
            painter.setFont(font)
            painter.setPen(muted)
            painter.drawText(rest, align_left, metrics.fm.elidedText(
                " · " + when, Qt.TextElideMode.ElideRight, rest.width()))
        else:
            painter.drawText(title_rect, align_left,
                             bold_fm.elidedText(when, Qt.TextElideMode.ElideRight, title_rect.width()))

        # Details: the note's first line, duration, counts, size.
        painter.setFont(font)
        fm = metrics.fm
        details_rect = QRect(geo.details)
        if item.note:
            first_line = item.note.strip().split("\n", 1)[0]
            italic = QFont(font)
            italic.setItalic(True)
            italic_fm = QFontMetrics(italic)
            note_text = italic_fm.elidedText(first_line, Qt.TextElideMode.ElideRight,
                                             details_rect.width() // 2)
            painter.setFont(italic)
            painter.setPen(text_colour)
            painter.drawText(details_rect, align_left, note_text)
            details_rect.setLeft(details_rect.left() + italic_fm.horizontalAdvance(note_text)
                                 + fm.horizontalAdvance(" · "))
            painter.setFont(font)
        details = [human_duration(item.duration_ms / 1000),
                   f"{item.action_count} action{'s' if item.action_count != 1 else ''}",
                   f"{item.screenshot_count} screenshot{'s' if item.screenshot_count != 1 else ''}"]
        if item.file_size_bytes is not None:
            details.append(human_size(item.file_size_bytes))
        details.append(item.session_id)
        painter.setPen(muted)
        painter.drawText(details_rect, align_left,
                         fm.elidedText(" · ".join(details), Qt.TextElideMode.ElideRight,
                                       details_rect.width()))

        self._paint_status_line(painter, palette, widget, geo.status_line, item, live, note)

        # Buttons, drawn by the platform style.
        style = widget.style() if widget is not None else QApplication.style()
        for action, button_rect in geo.buttons:
            opt = QStyleOptionButton()
            opt.rect = button_rect
            opt.text = ACTIONS[action].label
            enabled = buttons.enabled(action)
            button_palette = QPalette(palette)
            if not enabled:
                # Some styles draw the label from the active group; make "disabled" unmistakable.
                button_palette.setCurrentColorGroup(QPalette.ColorGroup.Disabled)
                grey = muted if muted.isValid() else palette.color(
                    QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
                for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive,
                              QPalette.ColorGroup.Disabled):
                    button_palette.setColor(group, QPalette.ColorRole.ButtonText, grey)
            opt.palette = button_palette
            opt.fontMetrics = fm
            flags = QStyle.StateFlag.State_Raised
            if enabled:
                flags |= QStyle.StateFlag.State_Enabled
                if self.hovered == (index.row(), action):
                    flags |= QStyle.StateFlag.State_MouseOver
                if self.pressed == (index.row(), action):
                    flags |= QStyle.StateFlag.State_Sunken
            opt.state = flags
            style.drawControl(QStyle.ControlElement.CE_PushButton, opt, painter, widget)
        painter.restore()

    def _paint_edit(self, painter: QPainter, palette: QPalette, rect: QRect, row: int,
                    enabled: bool, font: QFont) -> None:
        """The pencil that opens the title and note editor; highlighted under the mouse."""
        painter.save()
        if self.hovered == (row, "edit") and enabled:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
            painter.drawRoundedRect(QRectF(rect), 3, 3)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text if enabled
                                     else QPalette.ColorRole.PlaceholderText))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "✎")
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, palette: QPalette, rect: QRect,
                         pixmap: QPixmap | None, item: SessionListItem) -> None:
        painter.save()
        frame = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(frame, 4, 4)
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(rect.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawPixmap(target, pixmap)
        else:
            words = "files removed" if not item.has_local_files else "no picture" \
                if item.damaged or (not item.has_video and not item.screenshot_count) else ""
            if words:
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, words)
        painter.restore()

    def _paint_status_line(self, painter: QPainter, palette: QPalette, widget: QWidget | None,
                           rect: QRect, item: SessionListItem, live: Progress | None,
                           note: str | None) -> None:
        fm = painter.fontMetrics()
        align = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        text_colour = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        fraction = progress_fraction(item, live)
        words = progress_text(item, live)
        if note:
            painter.setPen(text_colour)
            painter.drawText(rect, align, fm.elidedText(note, Qt.TextElideMode.ElideRight, rect.width()))
            return
        # A session waiting for its next try says why and when, instead of an idle bar.
        waiting = item.upload_status == "pending" and bool(item.last_upload_error)
        if (fraction is not None or item.upload_status == "uploading") and not waiting:
            label = words or ""
            label_w = min(fm.horizontalAdvance(label) + 8, rect.width() // 2)
            bar = QStyleOptionProgressBar()
            bar.rect = QRect(rect.left(), rect.top() + 2, rect.width() - label_w - 8,
                             rect.height() - 4)
            bar.minimum = 0
            bar.maximum = 1000
            bar.progress = round((fraction or 0.0) * 1000)
            bar.textVisible = False
            bar.palette = palette
            bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
            style = widget.style() if widget is not None else QApplication.style()
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)
            painter.setPen(text_colour)
            painter.drawText(QRect(rect.right() - label_w + 1, rect.top(), label_w, rect.height()),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w))
            return
        line = status_line(item)
        text = line.text
        painter.setPen(error_colour(palette) if line.tone == "error"
                       else text_colour if line.tone == "normal" else muted)
        painter.drawText(rect, align, fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))

    def tooltip(self, index: _Index, action: CardAction | None) -> str:
        """Tooltip of a button, or of the card (failure detail, damage reason)."""
        item: SessionListItem = index.data(Role.ITEM)
        buttons = self.buttons_for(index)
        if action is not None:
            reason = buttons.blocked_reason(action)
            if reason:
                return reason
            if action == "delete" and not buttons.delete:
                return "A session cannot be deleted while it is queued or uploading; cancel the upload first."
            if action == "edit" and not buttons.edit:
                return "A damaged session's title cannot be changed."
            return f"{ACTIONS[action].label} ({ACTIONS[action].key})"
        lines = [item.session_id]
        title = shown_title(item.title)
        if title:
            lines.insert(0, title)
        if item.note:
            note_lines = item.note.split("\n")
            lines.append("Note: " + "\n".join(note_lines[:8]) + ("\n…" if len(note_lines) > 8 else ""))
        if item.damaged and item.damaged_reason:
            lines.append(f"Damaged: {item.damaged_reason}")
        if item.last_upload_error:
            lines.append(status_line(item).text if item.upload_status in ("pending", "failed")
                         else item.last_upload_error)
        if item.error_detail:
            lines.append(f"Detail: {item.error_detail}")
        if item.s3_key:
            lines.append(f"Object key: {item.s3_key}")
        return "\n".join(lines)
