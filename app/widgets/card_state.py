"""What a session card shows and which buttons it offers, as plain data (no Qt).

Kept Qt-free so every status, plus damaged and not-exported sessions, can be
tested without a display, and so the painted card and the keyboard/context-menu
actions agree by construction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.format import human_duration, human_rate, next_try_text, wait_text
from app.models import SessionListItem
from app.upload.session.progress import Progress

CardAction = Literal["upload", "retry", "cancel", "copy_link", "play", "open_folder", "delete",
                     "edit"]


@dataclass(frozen=True)
class ActionSpec:
    """One thing a card offers: its label, its key on the current card (a QKeySequence text),
    when the card draws it as a button, and the window method that does it (takes the item)."""

    action: CardAction
    label: str
    key: str
    shown: Callable[[CardButtons], bool]
    handler: str


def _always(_buttons: CardButtons) -> bool:
    return True


# The one table of card actions: the card's buttons (right to left: the first is rightmost),
# the keyboard, the context menu and the window's dispatch all read it.
CARD_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("upload", "Upload", "U", lambda b: b.upload or b.upload_blocked_reason is not None,
               "upload_session"),
    ActionSpec("retry", "Retry", "R", lambda b: b.retry, "retry_session"),
    ActionSpec("cancel", "Cancel", "C", lambda b: b.cancel, "cancel_session"),
    ActionSpec("copy_link", "Copy link", "L", lambda b: b.copy_link_shown, "copy_link_of"),
    ActionSpec("play", "Play", "P", lambda b: b.play_shown, "open_viewer"),
    ActionSpec("open_folder", "Open folder", "O", _always, "open_session_folder"),
    ActionSpec("delete", "Delete", "Del", _always, "delete_session"),
    # The pencil before the title, not one of the buttons in the row.
    ActionSpec("edit", "Edit title and note…", "F2", lambda _b: False, "edit_texts"),
)
ACTIONS: dict[CardAction, ActionSpec] = {spec.action: spec for spec in CARD_ACTIONS}

_WORD = re.compile(r"\w+")
_TERM = re.compile(r'"([^"]*)"?|(\S+)')

BadgeColour = Literal["grey", "amber", "blue", "green", "red"]


@dataclass(frozen=True)
class CardButtons:
    """Which actions a card offers, and why Upload is not offered (for its tooltip)."""

    upload: bool
    retry: bool
    cancel: bool
    open_folder: bool
    delete: bool
    # Deleting a session that never reached the bucket needs a second confirmation.
    delete_needs_second_confirmation: bool
    upload_blocked_reason: str | None = None
    # Watch it in the viewer: shown on every card with a video.
    play: bool = False
    play_shown: bool = False
    play_blocked_reason: str | None = None
    # A share link (presigned GET) to the uploaded zip: shown on uploaded cards.
    copy_link: bool = False
    copy_link_shown: bool = False
    copy_link_blocked_reason: str | None = None
    # The pencil before the title (not one of the buttons in the row).
    edit: bool = True

    def enabled(self, action: CardAction) -> bool:
        return bool(getattr(self, action))

    def visible_actions(self) -> list[CardAction]:
        """Buttons drawn on the card: state actions only when they apply; folder and delete always."""
        return [spec.action for spec in CARD_ACTIONS if spec.shown(self)]

    def blocked_reason(self, action: CardAction) -> str | None:
        """Why a drawn button is disabled (its tooltip), or None."""
        if self.enabled(action):
            return None
        return {"upload": self.upload_blocked_reason, "play": self.play_blocked_reason,
                "copy_link": self.copy_link_blocked_reason}.get(action)


def card_buttons(item: SessionListItem, config_valid: bool) -> CardButtons:
    """The buttons of one card for its upload status, export state and the current config."""
    status = item.upload_status
    upload_reason: str | None = None
    upload = False
    if status == "not_uploaded":
        if item.damaged:
            upload_reason = "This session is damaged and cannot be uploaded."
        elif not item.is_exported:
            upload_reason = "The session has not been exported to a zip yet."
        elif not config_valid:
            upload_reason = "Configure the upload settings first."
        else:
            upload = True
    retry = status == "failed" and not item.damaged and item.is_exported
    # A failed session keeps its multipart upload so Retry resumes; Cancel is how to drop it.
    cancel = status in ("pending", "uploading") or (status == "failed" and item.multipart_upload_open)
    play_reason: str | None = None
    if item.has_video and item.ended_at is None and not item.damaged and not item.is_exported:
        play_reason = "The session is still being recorded (or is being finished after a crash)."
    link_shown = status == "done" and bool(item.s3_key)
    link_reason = "Configure S3 in Settings first: the link is signed with its credentials." \
        if link_shown and not config_valid else None
    return CardButtons(
        upload=upload,
        retry=retry,
        cancel=cancel,
        open_folder=True,
        # A queued session is cancelled first, so the queue never reads a zip being deleted.
        delete=status not in ("pending", "uploading"),
        delete_needs_second_confirmation=status != "done",
        upload_blocked_reason=upload_reason if status == "not_uploaded" else None,
        play=item.has_video and play_reason is None,
        play_shown=item.has_video,
        play_blocked_reason=play_reason,
        copy_link=link_shown and link_reason is None,
        copy_link_shown=link_shown,
        copy_link_blocked_reason=link_reason,
        edit=not item.damaged,
    )


def allows(item: SessionListItem, action: CardAction, config_valid: bool) -> bool:
    return card_buttons(item, config_valid).enabled(action)


def bulk_targets(items: list[SessionListItem], action: CardAction, config_valid: bool) -> list[str]:
    """The ids among `items` whose card allows `action` (what a bulk action acts on)."""
    return [i.session_id for i in items if allows(i, action, config_valid)]


def bulk_counts(items: list[SessionListItem], actions: tuple[CardAction, ...],
                config_valid: bool) -> dict[CardAction, int]:
    """How many of `items` each action would act on: `len(bulk_targets(...))` for every action,
    with each card's buttons worked out once (Ctrl+A recounts thousands of cards)."""
    counts = dict.fromkeys(actions, 0)
    for item in items:
        buttons = card_buttons(item, config_valid)
        for action in actions:
            if buttons.enabled(action):
                counts[action] += 1
    return counts


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def search_text(item: SessionListItem) -> str:
    """What the search box matches: title, note, id and the date as the card shows it and as
    ISO (local time), as case-folded words with single spaces, framed by spaces."""
    parts = [item.title or "", item.note or "", item.session_id]
    if item.created_at > 0:
        local = time.localtime(item.created_at / 1000)
        parts.append(time.strftime("%Y-%m-%d %H:%M:%S %a %d %b %Y %A %B", local))
    return " " + " | ".join(_words(part) for part in parts) + " "


def search_terms(query: str) -> list[str]:
    """The query as terms that must all match (any field, any order). A term matches at the
    start of a word ("check" finds "Checkout"); punctuation inside a term and words in
    double quotes match as a phrase ("2026-01-27", an id, "27 Jan 2026")."""
    terms = []
    for quoted, bare in _TERM.findall(query):
        words = _words(quoted or bare)
        if words:
            terms.append(" " + words)
    return terms


def matches(text: str, terms: list[str]) -> bool:
    return all(term in text for term in terms)


@dataclass(frozen=True)
class Badge:
    text: str
    colour: BadgeColour


def status_badge(item: SessionListItem, now_ms: int | None = None) -> Badge:
    """The status badge text and colour; pending with a future attempt shows the countdown."""
    status = item.upload_status
    if status == "pending":
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        wait = wait_text(item.next_attempt_at, now_ms)
        return Badge(f"Retry in {wait}", "amber") if wait else Badge("Pending", "amber")
    if status == "uploading":
        return Badge("Uploading", "blue")
    if status == "done":
        return Badge("Uploaded", "green")
    if status == "failed":
        return Badge("Failed", "red")
    return Badge("Not uploaded", "grey")


Tone = Literal["error", "normal", "muted"]
KEPT_UPLOAD_NOTE = ("The unfinished upload is kept in the bucket so Retry resumes it; "
                    "Cancel removes it.")


@dataclass(frozen=True)
class StatusLine:
    """The sentence under a card's title when no progress bar is drawn, and how loud it is."""

    text: str
    tone: Tone


def status_line(item: SessionListItem, now_ms: int | None = None) -> StatusLine:
    """What a card says about its session in words (the painter only draws it)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    status = item.upload_status
    if item.damaged:
        return StatusLine(f"Damaged: {item.damaged_reason or 'the session files cannot be read'}",
                          "error")
    if status == "failed":
        text = item.last_upload_error or "The upload failed."
        if item.retry_count:
            # Inside the sentence: "… unreachable (after 10 attempts)." not "…. (after …)".
            text = (text.rstrip().rstrip(".")
                    + f" (after {item.retry_count} attempt{'s' if item.retry_count != 1 else ''}).")
        if item.multipart_upload_open:
            text += " " + KEPT_UPLOAD_NOTE
        return StatusLine(text, "error")
    if status == "done":
        text = f"Uploaded to {item.s3_key}" if item.s3_key else "Uploaded and verified"
        if not item.has_local_files:
            text += " · local files removed"
        if item.file_record_delivered is False and item.file_record_waiting_for_setting:
            # Nothing to retry: the sentence says which setting brings the record out.
            return StatusLine(f"{text} · {item.file_record_error or 'no target is set for its file record.'}",
                              "normal")
        if item.file_record_delivered is False:
            # The object is verified; the record for the backend or webhook is still retried.
            why = f" ({item.file_record_error.rstrip('.')})" if item.file_record_error else ""
            return StatusLine(f"{text} · file record not delivered yet{why}", "normal")
        return StatusLine(text, "muted")
    if status == "pending" and item.last_upload_error:
        # Waiting out a backoff: what went wrong last time, and when the next try is.
        waiting = next_try_text(item.last_upload_error, item.next_attempt_at, now_ms)
        text = waiting or item.last_upload_error
        if item.retry_count:
            text += f" (retry {item.retry_count})"
        return StatusLine(text, "normal")
    if status == "pending":
        return StatusLine("Waiting for its turn in the upload queue", "muted")
    if not item.is_exported:
        return StatusLine("Not exported yet: no zip to upload", "muted")
    return StatusLine("Ready to upload", "muted")


def progress_text(item: SessionListItem, live: Progress | None) -> str | None:
    """'42% · 12.3 MiB/s · 8s left' for a card with an upload under way, else None."""
    if item.upload_status not in ("uploading", "pending"):
        return None
    done, total = (live.bytes_uploaded, live.total_bytes) if live else (item.bytes_uploaded,
                                                                      item.total_bytes)
    if item.upload_status == "pending" and done <= 0:
        return None
    if total <= 0:
        return "Starting…"
    parts = [f"{100 * done / total:.0f}%"]
    if live and item.upload_status == "uploading":
        if live.bytes_per_sec > 0:
            parts.append(human_rate(live.bytes_per_sec))
        if live.eta_sec is not None and live.eta_sec >= 0:
            parts.append(f"{human_duration(live.eta_sec)} left")
    return " · ".join(parts)


def progress_fraction(item: SessionListItem, live: Progress | None) -> float | None:
    if item.upload_status not in ("uploading", "pending"):
        return None
    done, total = (live.bytes_uploaded, live.total_bytes) if live else (item.bytes_uploaded,
                                                                      item.total_bytes)
    if total <= 0 or (item.upload_status == "pending" and done <= 0):
        return None
    return max(0.0, min(1.0, done / total))
