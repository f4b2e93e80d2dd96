"""A session's title and note: checked, and written into session-meta.json without racing
the recorder, the export or crash recovery.

Those three write the meta from a copy they hold in memory, always while holding the
session's `.recording.lock`; an edit takes the same lock (never waiting for it), re-reads
the meta, changes only `title` and `note`, and writes it atomically. While a session is
being recorded or exported the edit is refused with a sentence; the window keeps such an
edit and applies it once the export is done.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path

from app.models import SessionMeta
from app.recorder.session_lock import SessionLock
from app.sessions import load_meta, save_meta, session_paths

MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 10_000


class TextProblem(ValueError):
    """A title or note that cannot be stored; str() is one sentence."""


class SessionBusy(RuntimeError):
    """The session is being recorded or exported right now; str() is one sentence."""


class Keep:
    """Marker: leave this field as it is."""


KEEP = Keep()


# Bidirectional overrides and isolates reorder how the text around them is shown.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _has_controls(text: str, allowed: str = "") -> bool:
    # Other format characters (zero-width joiners in emoji, soft hyphens) are fine.
    return any((unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS)
               and ch not in allowed for ch in text)


def clean_title(text: str) -> str | None:
    """The title to store (whitespace trimmed; None when empty), or TextProblem."""
    title = " ".join(text.split())
    if not title:
        return None
    if len(title) > MAX_TITLE_CHARS:
        raise TextProblem(f"A title can have at most {MAX_TITLE_CHARS} characters "
                          f"(this one has {len(title)}).")
    if _has_controls(title):
        raise TextProblem("A title cannot contain control characters.")
    return title


def clean_note(text: str) -> str | None:
    """The note to store (trailing whitespace trimmed, line breaks kept; None when empty)."""
    note = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if not note:
        return None
    if len(note) > MAX_NOTE_CHARS:
        raise TextProblem(f"A note can have at most {MAX_NOTE_CHARS:,} characters "
                          f"(this one has {len(note):,}).")
    if _has_controls(note, allowed="\n\t"):
        raise TextProblem("A note cannot contain control characters other than line breaks and tabs.")
    return note


def shown_title(meta_title: str | None) -> str | None:
    """A title read from disk, made safe to show (a hand-edited file may break the rules)."""
    if not meta_title:
        return None
    title = "".join(ch if not _has_controls(ch) else " " for ch in " ".join(meta_title.split()))
    return title[:MAX_TITLE_CHARS] or None


def set_session_texts(data_dir: Path, session_id: str, title: str | Keep | None = KEEP,
                      note: str | Keep | None = KEEP) -> SessionMeta:
    """Store a new title and/or note (already cleaned) in the session's meta.

    Raises InvalidSessionId, SessionBusy, TextProblem (bad text, unreadable meta) or OSError.
    """
    paths = session_paths(data_dir, session_id)
    if not paths.root.is_dir():
        raise TextProblem(f"There is no session {session_id}.")
    lock = SessionLock(paths.root)
    if not lock.try_acquire():
        raise SessionBusy(f"Session {session_id} is being recorded or exported right now; "
                          "change its title once it is saved.")
    try:
        loaded = load_meta(paths)
        if loaded.value is None:
            raise TextProblem(f"Session {session_id} cannot be read "
                              f"({loaded.problem or 'session-meta.json is missing'}).")
        changes: dict[str, str | None] = {}
        if not isinstance(title, Keep):
            changes["title"] = title
        if not isinstance(note, Keep):
            changes["note"] = note
        meta = dataclasses.replace(loaded.value, **changes)  # type: ignore[arg-type]
        if meta != loaded.value:
            save_meta(paths, meta)
        return meta
    finally:
        lock.release()
