"""Crash recovery: finalize and export sessions whose recording or export was interrupted.

Run at the start of `sessionrec list`, `sessionrec record` and the window, so it must cost almost
nothing when there is nothing to do: an exported session costs one lstat (the `.exported` marker)
and no file is parsed. For the rest:
- a session someone is recording (its `.recording.lock` is held) is skipped;
- a session whose meta cannot be read is left alone (the list shows it as damaged; never deleted);
- a session that breaks the trust rule (a link, FIFO or folder where a recording file belongs, a
  `videoRef` outside video/) is left alone too: nothing is truncated, and the list says why;
- a session with no `endedAt` was interrupted: its video is cut after the last complete fragment,
  actions.jsonl and frames.jsonl after their last complete line (frames.jsonl also after the last
  frame the video really holds), the meta is completed with `recovered: true`, and it is exported;
- a session with `endedAt` but no `.exported` (a crash or a full disk during export) is exported;
- a session whose recording files were removed after upload (retention) is skipped.
Every file is opened through app.session_files, so only the session's own regular files are
ever read or cut.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app import session_files
from app.jsonfile import MAX_JSON_LINE_BYTES, loads
from app.models import PauseSpan, SessionMeta
from app.recorder.archive import ExportError, export_session
from app.recorder.session_lock import SessionLock
from app.recorder.video_file import VideoInfo, probe, trim_to_complete
from app.sessions import (
    ACTIONS_FILE,
    EXPORTED_MARKER,
    FRAMES_FILE,
    RESERVE_FILE,
    SCREENSHOTS_DIR,
    VIDEO_DIR,
    VIDEO_FILE,
    SessionPaths,
    check_video_ref,
    iter_session_paths,
    load_meta,
    recording_problems,
    save_meta,
)

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# A `t` beyond this (ms since start, ~3 years) was not written by a recorder; it is ignored so
# a hostile line cannot push endedAt to an absurd date.
MAX_T_MS = 100_000_000_000


@dataclass(frozen=True)
class RecoveryResult:
    session_id: str
    finalized: bool  # it was interrupted while recording and was finalized from disk
    exported: bool
    sentence: str


@dataclass(frozen=True)
class JsonLines:
    """What `complete_lines` kept of a JSONL file."""

    count: int  # complete lines kept that parse as JSON
    last_t: int | None  # `t` of the last kept line that has one
    size: int  # bytes kept


def _terminated_lines(handle: BinaryIO, max_line: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset just after the newline, the line or None when longer than max_line) for every
    newline-terminated line, reading in blocks so a huge file never sits in memory at once."""
    pending = bytearray()
    overlong = False
    read = 0
    while block := handle.read(CHUNK):
        start = 0
        while (newline := block.find(b"\n", start)) >= 0:
            piece = block[start:newline]
            if overlong or len(pending) + len(piece) > max_line:
                yield read + newline + 1, None
            else:
                yield read + newline + 1, bytes(pending) + piece
            pending.clear()
            overlong = False
            start = newline + 1
        if not overlong:
            pending += block[start:]
            if len(pending) > max_line:
                overlong = True
                pending.clear()
        read += len(block)


def _line_t(line: bytes | None) -> tuple[bool, int | None]:
    """(the line parses as JSON, its `t` when it is a sane whole number)."""
    if line is None:
        return False, None
    try:
        value = loads(line)
    except ValueError:
        return False, None
    t = value.get("t") if isinstance(value, dict) else None
    if isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= MAX_T_MS:
        return True, t
    return True, None


def complete_lines(root: Path, rel: str, max_lines: int | None = None) -> JsonLines:
    """Keep the complete (newline-terminated, JSON-parsable) lines of a JSONL file, at most
    `max_lines` of them: the file is cut after the last one kept, so a line half-written at a
    crash is dropped. A bad line between good ones is not counted but left in place (a crash
    only ever damages the end; what else is there is the user's data)."""
    try:
        handle = session_files.open_binary(root, rel, "r+b")
    except FileNotFoundError:
        return JsonLines(0, None, 0)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        count, keep, kept_bad, bad_since_keep = 0, 0, 0, 0
        last_t: int | None = None
        for end, line in _terminated_lines(handle, MAX_JSON_LINE_BYTES):
            if max_lines is not None and count >= max_lines:
                break
            parsed, t = _line_t(line)
            if not parsed:
                bad_since_keep += 1
                continue
            count += 1
            keep = end
            kept_bad += bad_since_keep
            bad_since_keep = 0
            if t is not None:
                last_t = t
        if keep < size:
            os.ftruncate(handle.fileno(), keep)
    if kept_bad:
        log.warning("%s of %s: %d line(s) that are not JSON were kept but not counted",
                    rel, root.name, kept_bad)
    return JsonLines(count, last_t, keep)


def _video_info(paths: SessionPaths, meta: SessionMeta) -> VideoInfo:
    rel = check_video_ref(meta.video_ref or VIDEO_FILE)
    try:
        handle = session_files.open_binary(paths.root, rel, "r+b")
    except FileNotFoundError:
        return VideoInfo(0, None, None)
    with handle:
        try:
            removed = trim_to_complete(handle)
            if removed:
                log.info("recovery cut %d bytes of an incomplete fragment from %s of %s",
                         removed, rel, paths.session_id)
            return probe(handle)
        except Exception as exc:  # an unreadable video still leaves actions and screenshots
            log.warning("recovered video %s of %s is unreadable: %s", rel, paths.session_id, exc)
            return VideoInfo(0, None, None)


def repair_video(paths: SessionPaths, meta: SessionMeta) -> tuple[VideoInfo, int | None]:
    """Cut the video after its last complete fragment and frames.jsonl after the last frame the
    video holds (lines past it name frames that never reached the disk). Truncation only: it
    needs no free space, so it also works on a full disk. Returns the video's frame count and
    pts, and the session time `t` of its last frame (None without frames)."""
    video = _video_info(paths, meta)
    frames = complete_lines(paths.root, FRAMES_FILE, max_lines=video.frames)
    return video, (frames.last_t if frames.count else None)


def finalize_interrupted(paths: SessionPaths, meta: SessionMeta) -> SessionMeta:
    video, last_frame_t = repair_video(paths, meta)
    actions = complete_lines(paths.root, ACTIONS_FILE)
    # frames.jsonl has the session time of each frame (the muxer rebases pts to start at 0).
    frame_end = (last_frame_t or 0) + (round(1000 / meta.fps) if meta.fps > 0 else 0)
    end_ms = max(frame_end if last_frame_t is not None else 0, actions.last_t or 0)
    pauses = [PauseSpan(p.start_ms, p.end_ms if p.end_ms is not None else max(end_ms, p.start_ms))
              for p in meta.pauses]
    paused_ms = sum((p.end_ms or p.start_ms) - p.start_ms for p in pauses)
    screenshots = [name for name in session_files.list_files(paths.root, SCREENSHOTS_DIR, strict=True)
                   if name.endswith(".png")]
    session_files.unlink(paths.root, RESERVE_FILE)
    finished = dataclasses.replace(
        meta,
        ended_at=meta.created_at + end_ms,
        duration_ms=max(0, end_ms - paused_ms),
        frame_count=video.frames,
        action_count=actions.count,
        screenshot_count=len(screenshots),
        pauses=pauses,
        recovered=True,
    )
    save_meta(paths, finished)
    return finished


def _needs_work(paths: SessionPaths) -> bool:
    # One lstat for the common case; the marker is written only after a verified zip. Anything
    # at that name (even a link) means "not ours to redo": the list judges it.
    return not session_files.exists_any(paths.root, EXPORTED_MARKER)


def _sentence(exc: OSError) -> str:
    text = str(exc) if isinstance(exc, session_files.UnsafeFile) else (exc.strerror or str(exc))
    return text.rstrip(".")


def recover_session(paths: SessionPaths) -> RecoveryResult | None:
    lock = SessionLock(paths.root)
    try:
        if not lock.try_acquire():
            return None  # being recorded (or recovered) by another process right now
    except OSError as exc:
        log.warning("cannot lock %s: %s", paths.session_id, _sentence(exc))
        return None
    try:
        if not _needs_work(paths):  # someone finished it while we waited for nothing
            return None
        loaded = load_meta(paths)
        if loaded.value is None:
            return None  # damaged or no meta: shown as damaged by the list, never touched
        problems = recording_problems(paths)
        if problems:
            # Shown as damaged by the list; nothing in it is cut, moved or exported.
            log.warning("not recovering %s: %s", paths.session_id, "; ".join(problems))
            return None
        meta = loaded.value
        finalized = False
        if meta.ended_at is None:
            meta = finalize_interrupted(paths, meta)
            finalized = True
        elif not (session_files.exists_any(paths.root, ACTIONS_FILE)
                  or session_files.exists_any(paths.root, VIDEO_DIR)):
            return None  # files removed after upload: nothing to export
        try:
            meta = export_session(paths, meta)
        except ExportError as exc:
            return RecoveryResult(paths.session_id, finalized, False, str(exc))
        what = "recovered an interrupted recording and exported it" if finalized else "exported it"
        return RecoveryResult(paths.session_id, finalized, True, what)
    except OSError as exc:
        return RecoveryResult(paths.session_id, False, False,
                              f"Recovery failed: {_sentence(exc)}.")
    finally:
        lock.release()


def recover_interrupted(data_dir: Path,
                        on_result: Callable[[RecoveryResult], None] | None = None
                        ) -> list[RecoveryResult]:
    results: list[RecoveryResult] = []
    for paths in iter_session_paths(data_dir):
        try:
            if not _needs_work(paths):
                continue
            result = recover_session(paths)
        except Exception as exc:  # one odd session must never stop the list or a recording
            log.exception("recovery of %s failed", paths.session_id)
            result = RecoveryResult(paths.session_id, False, False,
                                    f"Recovery failed ({type(exc).__name__}); the session is "
                                    "left as it is.")
        if result is not None:
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
