"""The on-disk session layout (DESIGN §3) and the session listing.

Listing never raises for one bad session: a session whose files cannot be read,
or that breaks the trust rule (a link, FIFO or folder where a file should be, a
path in its JSON that leaves the folder), is returned with `damaged=True` and a
reason, so the list can show it (never hide it, never delete it). Folder names
that are not valid session ids, and symbolic links, are ignored and never
followed. Every session file is read and written through `app.session_files`.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app import session_files
from app.jsonfile import MAX_JSON_BYTES, Loaded, dumps, parse_json_bytes, unsafe_problem
from app.models import SessionListItem, SessionMeta, UploadState, UploadStatus
from app.paths import sessions_root
from app.upload.session.state_bounds import bounded_state

T = TypeVar("T")

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
VIDEO_FILE = "video/screen.mp4"
LOCK_FILE = ".recording.lock"
RESERVE_FILE = ".space-reserve"


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
    def __init__(self, session_id: str, sentence: str | None = None) -> None:
        shown = "".join(ch if ch.isprintable() else "?" for ch in session_id[:80])
        super().__init__(sentence or (
            f"'{shown}' is not a session id (letters, digits, '.', '_' and '-', "
            "at most 64 characters)."
        ))


class UnsafeSessionFolder(InvalidSessionId):
    """The id is valid but what sits at sessions/<id> is a link or not a folder."""


def session_paths(data_dir: Path, session_id: str) -> SessionPaths:
    """The paths of one session; refuses a bad id, and a session folder that is a symbolic
    link or not a folder (a missing one is fine: it may be about to be created)."""
    if not is_valid_session_id(session_id):
        raise InvalidSessionId(session_id)
    root = sessions_root(data_dir) / session_id
    try:
        mode = os.lstat(root).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        raise UnsafeSessionFolder(session_id, (
            f"The session folder {session_id} is {session_files.describe_kind(mode)}, "
            "which sessionrec never follows or opens."))
    return SessionPaths(session_id, root)


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


def read_session_json(paths: SessionPaths, rel: str, parse: Callable[[Any], T]) -> Loaded[T]:
    """A session's JSON file through the trust rule; never raises."""
    try:
        raw = session_files.read_bytes(paths.root, rel, MAX_JSON_BYTES)
    except FileNotFoundError:
        return Loaded(missing=True)
    except session_files.UnsafeFile as exc:
        return Loaded(problem=unsafe_problem(exc))
    except OSError as exc:
        return Loaded(problem=f"{rel} cannot be read ({exc.strerror or exc})")
    return parse_json_bytes(raw, rel, parse)


def check_video_ref(video_ref: str) -> str:
    """The checked `videoRef`: relative, normalised, inside video/ (UnsafeFile otherwise)."""
    rel = session_files.check_rel(video_ref)
    if not rel.startswith(VIDEO_DIR + "/"):
        raise session_files.UnsafeFile(f"The path '{rel[:80]}' is not inside the video folder.")
    return rel


# Epoch ms of 9999-12-31: a time past it (or before 1970) was never written by a recorder, and
# would overflow the date conversions of the list and the window.
MAX_EPOCH_MS = 253_402_300_799_999
# Durations and counts above 2**53 are not exact in JSON numbers anyway.
MAX_COUNT = 2**53


def _meta_problem(meta: SessionMeta) -> str | None:
    """Paths and numbers of a parsed meta that no recorder writes, as a problem clause."""
    # Paths read from JSON are checked like any other: a hostile meta must not steer a reader
    # or recovery (which truncates the video) to a file outside the session.
    for field, value in (("videoRef", meta.video_ref), ("zipPath", meta.zip_path)):
        if value is None:
            continue
        try:
            rel = check_video_ref(value) if field == "videoRef" else session_files.check_rel(value)
        except session_files.UnsafeFile as exc:
            reason = unsafe_problem(exc)
            return f"{META_FILE} has an unsafe {field} ({reason[:1].lower()}{reason[1:]})"
        if field == "zipPath" and rel != ZIP_FILE:
            return f"{META_FILE} has an unsafe zipPath (not {ZIP_FILE})"
    for field, number, limit in (("createdAt", meta.created_at, MAX_EPOCH_MS),
                                 ("endedAt", meta.ended_at, MAX_EPOCH_MS),
                                 ("durationMs", meta.duration_ms, MAX_COUNT),
                                 ("actionCount", meta.action_count, MAX_COUNT),
                                 ("screenshotCount", meta.screenshot_count, MAX_COUNT),
                                 ("frameCount", meta.frame_count, MAX_COUNT),
                                 ("droppedFrames", meta.dropped_frames, MAX_COUNT),
                                 ("fileSizeBytes", meta.file_size_bytes, MAX_COUNT)):
        if number is not None and not 0 <= number <= limit:
            return f"{META_FILE} has {field} out of range ({str(number)[:24]})"
    if not 0 <= meta.fps <= 1000:
        return f"{META_FILE} has fps out of range"
    return None


def load_meta(paths: SessionPaths) -> Loaded[SessionMeta]:
    loaded = read_session_json(paths, META_FILE, SessionMeta.from_json)
    if loaded.value is not None:
        if loaded.value.session_id != paths.session_id:
            shown = "".join(ch if ch.isprintable() else "?" for ch in loaded.value.session_id[:64])
            return Loaded(problem=f"{META_FILE} names another session ({shown})")
        problem = _meta_problem(loaded.value)
        if problem:
            return Loaded(problem=problem)
    return loaded


def load_upload_state(paths: SessionPaths) -> Loaded[UploadState]:
    loaded = read_session_json(paths, STATE_FILE, UploadState.from_json)
    if loaded.value is not None and loaded.value.session_id != paths.session_id:
        return Loaded(problem=f"{STATE_FILE} names another session")
    if loaded.value is not None:  # numbers clamped into their documented bounds, logged
        loaded = Loaded(value=bounded_state(loaded.value))
    return loaded


def save_meta(paths: SessionPaths, meta: SessionMeta) -> None:
    session_files.write_atomic(paths.root, META_FILE, dumps(meta.to_json()))


def save_upload_state(paths: SessionPaths, state: UploadState) -> None:
    session_files.write_atomic(paths.root, STATE_FILE, dumps(state.to_json()))


def is_exported(paths: SessionPaths) -> bool:
    # The marker is written only after the zip was verified; both must still be there, and
    # both must be regular files (a link named session.zip is never exported or uploaded).
    return (session_files.is_regular(paths.root, EXPORTED_MARKER)
            and session_files.is_regular(paths.root, ZIP_FILE))


def _zip_state(paths: SessionPaths, problems: list[str]) -> tuple[bool, int | None]:
    """(exported, zip size); an unsafe marker or zip is a problem and never exported."""
    found: dict[str, os.stat_result | None] = {}
    for rel in (EXPORTED_MARKER, ZIP_FILE):
        try:
            found[rel] = session_files.stat_regular(paths.root, rel)
        except session_files.UnsafeFile as exc:
            problems.append(unsafe_problem(exc))
            found[rel] = None
        except OSError:
            found[rel] = None
    zip_info = found[ZIP_FILE]
    if found[EXPORTED_MARKER] is None or zip_info is None:
        return False, None
    denied = session_files.permission_problem(paths.root, ZIP_FILE)
    if denied:
        problems.append(denied)  # exported, but it cannot be uploaded as it is
    return True, zip_info.st_size


def recording_problems(paths: SessionPaths) -> list[str]:
    """What in a not-yet-exported session breaks the trust rule: a link, FIFO or folder where
    a recording file belongs, or a link or file where a sub-folder belongs. Recovery and export
    refuse such a session; the list shows it as damaged."""
    problems: list[str] = []
    # Recovery cuts actions/frames/video and locks the lock file: all must be writable too.
    to_check = [(ACTIONS_FILE, True), (FRAMES_FILE, True), (LOCK_FILE, True),
                (RESERVE_FILE, False)]
    for folder in (VIDEO_DIR, SCREENSHOTS_DIR):
        try:
            names = session_files.list_files(paths.root, folder, strict=True)
        except session_files.UnsafeFile as exc:
            problems.append(unsafe_problem(exc))
            continue
        except OSError as exc:
            problems.append(f"{folder} cannot be read ({exc.strerror or exc})")
            continue
        to_check += [(f"{folder}/{name}", folder == VIDEO_DIR) for name in names]
    for rel, write in to_check:
        try:
            if session_files.stat_regular(paths.root, rel) is None:
                continue
        except session_files.UnsafeFile as exc:
            problems.append(unsafe_problem(exc))
            continue
        except OSError as exc:
            problems.append(f"{rel} cannot be read ({exc.strerror or exc})")
            continue
        denied = session_files.permission_problem(paths.root, rel, write)
        if denied:
            problems.append(denied)
    return problems


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
    exported, zip_size = _zip_state(paths, problems)
    if not exported and meta is not None:
        # Only sessions still to be exported are checked file by file (few, and what recovery
        # would open); an exported one is its zip.
        problems.extend(recording_problems(paths))
    if state is not None and state.error_kind == "damaged" and state.status == "failed":
        # The upload found the zip is not what the recorder wrote: the session is damaged.
        problems.append(state.last_error or "the zip does not match what was recorded")
    status: UploadStatus = state.status if state is not None else "not_uploaded"
    created = meta.created_at if meta else (created_at_from_id(paths.session_id) or 0)
    has_local = (exported or session_files.exists_any(paths.root, ACTIONS_FILE)
                 or session_files.exists_any(paths.root, VIDEO_DIR))
    has_video = has_local and _has_video(paths, meta)
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
        has_video=has_video,
        s3_key=state.s3_key if state else None,
        title=meta.title if meta else None,
        note=meta.note if meta else None,
        multipart_upload_open=bool(state is not None and state.multipart is not None),
        file_record_delivered=(None if state is None or state.file_record is None
                               else not state.file_record.pending),
        file_record_error=(state.file_record.last_error
                           if state is not None and state.file_record is not None
                           and state.file_record.pending else None),
        file_record_waiting_for_setting=(
            True if state is not None and state.file_record is not None
            and state.file_record.pending and state.file_record.waiting_for_setting else None),
        damaged=bool(problems),
        damaged_reason="; ".join(problems) if problems else None,
    )


def delete_session_folder(data_dir: Path, session_id: str) -> None:
    """Remove a session folder and everything in it, never following a link: if a link sits
    where the folder was, only the link goes, never what it points to."""
    if not is_valid_session_id(session_id):
        raise InvalidSessionId(session_id)
    fd = os.open(sessions_root(data_dir), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            info = os.stat(session_id, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            # fd-based rmtree: a link inside (or swapped in meanwhile) is removed, not followed.
            shutil.rmtree(session_id, dir_fd=fd)
        else:
            os.unlink(session_id, dir_fd=fd)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _has_video(paths: SessionPaths, meta: SessionMeta | None) -> bool:
    try:
        info = session_files.stat_regular(paths.root, (meta.video_ref if meta else None)
                                          or f"{VIDEO_DIR}/screen.mp4")
    except OSError:  # UnsafeFile: a symlink or a FIFO is no video of ours
        return False
    return info is not None and info.st_size > 0


def list_sessions(data_dir: Path) -> list[SessionListItem]:
    """Every session, newest first; damaged sessions included and marked."""
    items = [read_list_item(paths) for paths in iter_session_paths(data_dir)]
    items.sort(key=lambda item: (item.created_at, item.session_id), reverse=True)
    return items
