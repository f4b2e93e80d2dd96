"""Crash recovery: finalize and export sessions whose recording or export was interrupted.

Run at the start of `sessionrec list`, `sessionrec record` and the window, so it must cost almost
nothing when there is nothing to do: an exported session costs one stat (the `.exported` marker)
and no file is parsed. For the rest:
- a session someone is recording (its `.recording.lock` is held) is skipped;
- a session whose meta cannot be read is left alone (the list shows it as damaged; never deleted);
- a session with no `endedAt` was interrupted: its video is cut after the last complete fragment,
  actions.jsonl and frames.jsonl after their last complete line (frames.jsonl also after the last
  frame the video really holds), the meta is completed with `recovered: true`, and it is exported;
- a session with `endedAt` but no `.exported` (a crash or a full disk during export) is exported;
- a session whose recording files were removed after upload (retention) is skipped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.models import PauseSpan, SessionMeta
from app.recorder.archive import ExportError, export_session
from app.recorder.session_lock import SessionLock
from app.recorder.video_file import VideoInfo, probe, trim_to_complete
from app.sessions import SessionPaths, iter_session_paths, load_meta, save_meta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveryResult:
    session_id: str
    finalized: bool  # it was interrupted while recording and was finalized from disk
    exported: bool
    sentence: str


def complete_lines(path: Path) -> list[bytes]:
    """The complete (newline-terminated, JSON-parsable) lines of a JSONL file; the file is cut
    after the last complete line, so a line half-written at a crash is dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n") + 1
    lines = []
    for line in data[:end].splitlines():
        try:
            json.loads(line)
        except ValueError:
            break
        lines.append(line)
    keep = sum(len(line) + 1 for line in lines)
    if keep < len(data):
        os.truncate(path, keep)
    return lines


def _last_t(lines: list[bytes]) -> int:
    for line in reversed(lines):
        value = json.loads(line)
        if isinstance(value, dict) and isinstance(value.get("t"), int):
            return int(value["t"])
    return 0


def _video_info(paths: SessionPaths, meta: SessionMeta) -> VideoInfo:
    video = paths.root / (meta.video_ref or "video/screen.mp4")
    if not video.is_file():
        return VideoInfo(0, None, None)
    try:
        removed = trim_to_complete(video)
        if removed:
            log.info("recovery cut %d bytes of an incomplete fragment from %s", removed, video)
        return probe(video)
    except Exception as exc:  # an unreadable video still leaves actions and screenshots
        log.warning("recovered video %s is unreadable: %s", video, exc)
        return VideoInfo(0, None, None)


def repair_video(paths: SessionPaths, meta: SessionMeta) -> tuple[VideoInfo, int | None]:
    """Cut the video after its last complete fragment and frames.jsonl after the last frame the
    video holds (lines past it name frames that never reached the disk). Truncation only: it
    needs no free space, so it also works on a full disk. Returns the video's frame count and
    pts, and the session time `t` of its last frame (None without frames)."""
    video = _video_info(paths, meta)
    frames = complete_lines(paths.frames)
    if len(frames) > video.frames:
        frames = frames[: video.frames]
        os.truncate(paths.frames, sum(len(line) + 1 for line in frames))
    return video, (_last_t(frames) if frames else None)


def finalize_interrupted(paths: SessionPaths, meta: SessionMeta) -> SessionMeta:
    video, last_frame_t = repair_video(paths, meta)
    actions = complete_lines(paths.actions)
    # frames.jsonl has the session time of each frame (the muxer rebases pts to start at 0).
    frame_end = (last_frame_t or 0) + (round(1000 / meta.fps) if meta.fps else 0)
    end_ms = max(frame_end if last_frame_t is not None else 0, _last_t(actions))
    pauses = [PauseSpan(p.start_ms, p.end_ms if p.end_ms is not None else max(end_ms, p.start_ms))
              for p in meta.pauses]
    paused_ms = sum((p.end_ms or p.start_ms) - p.start_ms for p in pauses)
    screenshots = [f for f in paths.screenshots_dir.glob("*.png") if not f.name.startswith(".")] \
        if paths.screenshots_dir.is_dir() else []
    for leftover in paths.root.glob(".space-reserve"):
        leftover.unlink(missing_ok=True)
    finished = dataclasses.replace(
        meta,
        ended_at=meta.created_at + end_ms,
        duration_ms=max(0, end_ms - paused_ms),
        frame_count=video.frames,
        action_count=len(actions),
        screenshot_count=len(screenshots),
        pauses=pauses,
        recovered=True,
    )
    save_meta(paths, finished)
    return finished


def _needs_work(paths: SessionPaths) -> bool:
    # One stat for the common case; the marker is written only after a verified zip.
    return not paths.exported_marker.exists()


def recover_session(paths: SessionPaths) -> RecoveryResult | None:
    lock = SessionLock(paths.root)
    try:
        if not lock.try_acquire():
            return None  # being recorded (or recovered) by another process right now
    except OSError as exc:
        log.warning("cannot lock %s: %s", paths.root, exc)
        return None
    try:
        if not _needs_work(paths):  # someone finished it while we waited for nothing
            return None
        loaded = load_meta(paths)
        if loaded.value is None:
            return None  # damaged or no meta: shown as damaged by the list, never touched
        meta = loaded.value
        finalized = False
        if meta.ended_at is None:
            meta = finalize_interrupted(paths, meta)
            finalized = True
        elif not (paths.actions.exists() or paths.video_dir.exists()):
            return None  # files removed after upload: nothing to export
        try:
            meta = export_session(paths, meta)
        except ExportError as exc:
            return RecoveryResult(paths.session_id, finalized, False, str(exc))
        what = "recovered an interrupted recording and exported it" if finalized else "exported it"
        return RecoveryResult(paths.session_id, finalized, True, what)
    except OSError as exc:
        return RecoveryResult(paths.session_id, False, False,
                              f"Recovery failed: {exc.strerror or exc}.")
    finally:
        lock.release()


def recover_interrupted(data_dir: Path,
                        on_result: Callable[[RecoveryResult], None] | None = None
                        ) -> list[RecoveryResult]:
    results: list[RecoveryResult] = []
    for paths in iter_session_paths(data_dir):
        if not _needs_work(paths):
            continue
        result = recover_session(paths)
        if result is not None:
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
