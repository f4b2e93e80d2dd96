"""What travels through the worker's command queue, and the record of the running upload."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from app.models import UploadState
from app.upload.queue.calls import Reply
from app.upload.session.errors import UploadError
from app.upload.session.progress import Progress

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

log = logging.getLogger(__name__)

CommandKind = Literal["enqueue", "retry", "cancel", "shutdown", "progress", "finished", "wake"]


@dataclass
class Outcome:
    """How one upload call ended: a state (done), an error, or cancelled."""

    state: UploadState | None = None
    error: UploadError | None = None
    cancelled: bool = False


@dataclass
class Command:
    kind: CommandKind
    session_id: str = ""
    reply: Reply | None = None
    progress: Progress | None = None
    outcome: Outcome | None = None
    # enqueue / retry: the settings the caller's checks passed with (loaded once per action).
    config: UploadConfig | None = None


@dataclass
class Running:
    session_id: str
    cancel: threading.Event
    config: UploadConfig
    thread: threading.Thread | None = None
    # Why the cancel event was set: "user" aborts the multipart upload, "shutdown" keeps it.
    stop_reason: Literal["user", "shutdown"] | None = None
    replies: list[Reply] = field(default_factory=list)


def answer(reply: Reply | None, sentence: str | None) -> None:
    if reply is None:
        return
    try:
        reply(sentence)
    except Exception:
        log.exception("a queue reply callback failed")


def status_words(status: str | None) -> str:
    return (status or "not_uploaded").replace("_", " ")
