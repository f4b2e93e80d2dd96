"""The on-disk session layout (DESIGN §3) and the session listing.

Listing never raises for one bad session: a session whose files cannot be read
is returned with `damaged=True` and a reason, so the list can show it (never
hide it, never delete it). Folder names that are not valid session ids, and
symbolic links, are ignored and never followed.
"""

from __future__ import annotations

import calendar
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.jsonfile import Loaded, read_json, write_json_atomic
from app.models import SessionListItem, SessionMeta, UploadState, UploadStatus
from app.paths import sessions_root

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# New ids: UTC start time, so lexical order is time order, plus randomness for uniqueness.
_ID_TIME_RE = re.compile(r"^(\d{8})-(\d{6})-(\d{3})")

META_FILE = "session-meta.json"
STATE_FILE = "upload-state.json"
ACTIONS_FILE = "actions.jsonl"
FRAMES_FILE = "frames.jsonl"
VIDEO_DIR = "video"
SCREENSHOTS_DIR = "screenshots"
ZIP_FILE = "session.zip"
ZIP_PARTIAL_FILE = "session.zip.partial"
EXPORTED_MARKER = ".exported"


def is_valid_session_id(name: str) -> bool:
    return SESSION_ID_RE.fullmatch(name) is not None


def new_session_id(now_ms: int | None = None) -> str:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_ms // 1000))
    return f"{stamp}-{now_ms % 1000:03d}-{secrets.token_hex(3)}"


def created_at_from_id(session_id: str) -> int | None:
    """Recover the start time from an id we generated; used when the meta is unreadable."""
    match = _ID_TIME_RE.match(session_id)
    if not match:
        return None
    try:
        parsed = time.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return calendar.timegm(parsed) * 1000 + int(match.group(3))


@dataclass(frozen=True)
class SessionPaths:
    """Every path of one session folder."""

    session_id: str
    root: Path

    @property
    def meta(self) -> Path:
        return self.root / META_FILE

    @property
    def upload_state(self) -> Path:
        return self.root / STATE_FILE

    @property
    def actions(self) -> Path:
        return self.root / ACTIONS_FILE

    @property
    def frames(self) -> Path:
        return self.root / FRAMES_FILE

    @property
    def video_dir(self) -> Path:
        return self.root / VIDEO_DIR

    @property
    def screenshots_dir(self) -> Path:
        return self.root / SCREENSHOTS_DIR

    @property
    def zip(self) -> Path:
        return self.root / ZIP_FILE

    @property
    def zip_partial(self) -> Path:
        return self.root / ZIP_PARTIAL_FILE

    @property
    def exported_marker(self) -> Path:
        return self.root / EXPORTED_MARKER


class InvalidSessionId(ValueError):
    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"'{session_id[:80]}' is not a session id (letters, digits, '.', '_' and '-', "
            "at most 64 characters)."
        )


def session_paths(data_dir: Path, session_id: str) -> SessionPaths:
    if not is_valid_session_id(session_id):
        raise InvalidSessionId(session_id)
    return SessionPaths(session_id, sessions_root(data_dir) / session_id)


def iter_session_paths(data_dir: Path) -> Iterator[SessionPaths]:
    """Session folders with a valid id; symlinks and other names are skipped."""
    root = sessions_root(data_dir)
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if not is_valid_session_id(entry.name):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        yield SessionPaths(entry.name, Path(entry.path))


def load_meta(paths: SessionPaths) -> Loaded[SessionMeta]:
    loaded = read_json(paths.meta, SessionMeta.from_json)
    if loaded.value is not None and loaded.value.session_id != paths.session_id:
        return Loaded(problem=f"{META_FILE} names another session ({loaded.value.session_id[:64]})")
    return loaded


def load_upload_state(paths: SessionPaths) -> Loaded[UploadState]:
    loaded = read_json(paths.upload_state, UploadState.from_json)
    if loaded.value is not None and loaded.value.session_id != paths.session_id:
        return Loaded(problem=f"{STATE_FILE} names another session")
    return loaded


def save_meta(paths: SessionPaths, meta: SessionMeta) -> None:
    write_json_atomic(paths.meta, meta.to_json())


def save_upload_state(paths: SessionPaths, state: UploadState) -> None:
    write_json_atomic(paths.upload_state, state.to_json())


def is_exported(paths: SessionPaths) -> bool:
    # The marker is written only after the zip was verified; both must still be there.
    return paths.exported_marker.is_file() and paths.zip.is_file()


def read_list_item(paths: SessionPaths) -> SessionListItem:
    """One session as the list shows it; never raises."""
    try:
        return _read_list_item(paths)
    except Exception as exc:  # a bug or an OS oddity must not hide the other sessions
        return SessionListItem(
            session_id=paths.session_id,
            created_at=created_at_from_id(paths.session_id) or 0,
            is_exported=False,
            upload_status="not_uploaded",
            damaged=True,
            damaged_reason=f"the session could not be read ({type(exc).__name__})",
        )


def _read_list_item(paths: SessionPaths) -> SessionListItem:
    meta_loaded = load_meta(paths)
    state_loaded = load_upload_state(paths)
    problems: list[str] = []
    if meta_loaded.missing:
        problems.append(f"{META_FILE} is missing")
    elif meta_loaded.problem:
        problems.append(meta_loaded.problem)
    if state_loaded.problem:
        problems.append(state_loaded.problem)

    meta = meta_loaded.value
    state = state_loaded.value
    exported = is_exported(paths)
    zip_size: int | None = None
    if exported:
        try:
            zip_size = paths.zip.stat().st_size
        except OSError:
            exported = False
    status: UploadStatus = state.status if state is not None else "not_uploaded"
    created = meta.created_at if meta else (created_at_from_id(paths.session_id) or 0)
    has_local = exported or paths.actions.exists() or paths.video_dir.exists()
    return SessionListItem(
        session_id=paths.session_id,
        created_at=created,
        ended_at=meta.ended_at if meta else None,
        action_count=meta.action_count if meta else 0,
        screenshot_count=meta.screenshot_count if meta else 0,
        duration_ms=meta.duration_ms if meta else 0,
        file_size_bytes=zip_size if zip_size is not None else (meta.file_size_bytes if meta else None),
        zip_path=str(paths.zip) if exported else None,
        is_exported=exported,
        upload_status=status,
        upload_progress=state.progress_percent if state else None,
        bytes_uploaded=state.bytes_uploaded if state else 0,
        total_bytes=state.total_bytes if state else 0,
        last_upload_error=state.last_error if state else None,
        error_kind=state.error_kind if state else None,
        error_detail=state.error_detail if state else None,
        retry_count=state.retry_count if state else 0,
        next_attempt_at=state.next_attempt_at if state else None,
        recovered=meta.recovered if meta else False,
        has_local_files=has_local,
        s3_key=state.s3_key if state else None,
        title=meta.title if meta else None,
        note=meta.note if meta else None,
        damaged=bool(problems),
        damaged_reason="; ".join(problems) if problems else None,
    )


def list_sessions(data_dir: Path) -> list[SessionListItem]:
    """Every session, newest first; damaged sessions included and marked."""
    items = [read_list_item(paths) for paths in iter_session_paths(data_dir)]
    items.sort(key=lambda item: (item.created_at, item.session_id), reverse=True)
    return items
