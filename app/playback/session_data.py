"""Everything the viewer shows about one session, read once (off the GUI thread).

Every file is opened through `app.session_files` (the trust rule). Nothing here raises for a
bad session: what cannot be read becomes a sentence in `notes` (shown above the player) or, when
there is nothing to show at all, `problem`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app import session_files
from app.jsonfile import SchemaError
from app.models import SessionListItem, SessionMeta
from app.playback.frame_index import FrameIndex
from app.playback.timeline import Action, Timeline, build_rows, format_session_time, parse_action
from app.sessions import (
    ACTIONS_FILE,
    FRAMES_FILE,
    META_FILE,
    SCREENSHOTS_DIR,
    InvalidSessionId,
    read_list_item,
    session_paths,
)

DEFAULT_VIDEO = "video/screen.mp4"
# A single JSONL line longer than this is not one of ours.
MAX_LINE_BYTES = 64 * 1024
MAX_META_BYTES = 4 * 1024 * 1024
_SHOT_RE = re.compile(r"^(click|periodic)-(\d{1,12})ms-f(\d{1,9})\.png$")

ViewState = Literal["ok", "damaged", "removed", "missing"]


@dataclass(frozen=True)
class Screenshot:
    rel: str  # relative to the session folder
    kind: Literal["click", "periodic"]
    t_ms: int
    frame: int


@dataclass
class ViewerSession:
    session_id: str
    root: Path
    state: ViewState
    item: SessionListItem | None = None
    meta: SessionMeta | None = None
    frames: FrameIndex = field(default_factory=lambda: FrameIndex(()))
    actions: list[Action] = field(default_factory=list)
    timeline: Timeline = field(default_factory=lambda: Timeline([], []))
    screenshots: list[Screenshot] = field(default_factory=list)
    video_rel: str | None = None
    # Sentences shown above the player (recovered, damaged parts, missing files).
    notes: list[str] = field(default_factory=list)
    # When set, there is nothing to play or list: this sentence is all the viewer shows.
    problem: str | None = None
    # frames.jsonl was missing: the decoder's pts fill the frame index instead.
    frames_from_video: bool = False

    @property
    def video_frames(self) -> int:
        return self.frames.count

    @property
    def after_video_rows(self) -> int:
        return sum(1 for row in self.timeline.rows if row.after_video)

    def screen_rect(self, video_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The captured screen area (x, y, width, height) that the video shows."""
        screen = self.meta.screen if self.meta else None
        if screen is not None and screen.width > 0 and screen.height > 0:
            return screen.x, screen.y, screen.width, screen.height
        return 0, 0, video_size[0], video_size[1]


def _read_jsonl(root: Path, rel: str) -> tuple[list[object], int]:
    """(decoded lines, lines that could not be read); missing file -> FileNotFoundError."""
    values: list[object] = []
    bad = 0
    with session_files.open_binary(root, rel) as handle:
        for raw in handle:
            if len(raw) > MAX_LINE_BYTES:
                bad += 1
                continue
            if not raw.strip():
                continue
            try:
                values.append(json.loads(raw))
            except ValueError:
                bad += 1
    return values, bad


def _frame_times(values: list[object]) -> tuple[list[int], int]:
    times: list[int] = []
    bad = 0
    for value in values:
        t = value.get("t") if isinstance(value, dict) else None
        if not isinstance(t, int) or isinstance(t, bool) or t < 0:
            bad += 1
            continue
        # Times never go back (the encoder makes pts rise); keep the map monotonic whatever the file says.
        times.append(max(t, times[-1]) if times else t)
    return times, bad


def _load_meta(root: Path) -> tuple[SessionMeta | None, str | None]:
    try:
        raw = session_files.read_bytes(root, META_FILE, MAX_META_BYTES)
        return SessionMeta.from_json(json.loads(raw)), None
    except FileNotFoundError:
        return None, f"{META_FILE} is missing"
    except session_files.UnsafeFile as exc:
        return None, str(exc).rstrip(".")
    except (ValueError, SchemaError, TypeError) as exc:
        return None, f"{META_FILE} cannot be read ({str(exc)[:120]})"
    except OSError as exc:
        return None, f"{META_FILE} cannot be read ({exc.strerror or exc})"


def list_screenshots(root: Path) -> list[Screenshot]:
    shots = []
    try:
        names = session_files.list_files(root, SCREENSHOTS_DIR)
    except OSError:
        return []
    for name in names:
        match = _SHOT_RE.match(name)
        if match:
            kind: Literal["click", "periodic"] = "click" if match.group(1) == "click" else "periodic"
            shots.append(Screenshot(f"{SCREENSHOTS_DIR}/{name}", kind, int(match.group(2)),
                                    int(match.group(3))))
    shots.sort(key=lambda shot: (shot.t_ms, shot.kind))
    return shots


def video_rel_of(meta: SessionMeta | None) -> str:
    ref = meta.video_ref if meta and meta.video_ref else DEFAULT_VIDEO
    return session_files.check_rel(ref)


def load_viewer_session(data_dir: Path, session_id: str) -> ViewerSession:
    """Read one session for the viewer; never raises for a bad session."""
    try:
        paths = session_paths(data_dir, session_id)
    except InvalidSessionId as exc:
        return ViewerSession(session_id, data_dir, "missing", problem=str(exc))
    root = paths.root
    try:
        session_files.check_session_root(root)
    except FileNotFoundError:
        return ViewerSession(session_id, root, "missing",
                             problem=f"There is no session {session_id} in {data_dir}.")
    except OSError as exc:
        return ViewerSession(session_id, root, "damaged", problem=f"{exc}")
    item = read_list_item(paths)
    session = ViewerSession(session_id, root, "damaged" if item.damaged else "ok", item=item)
    meta, meta_problem = _load_meta(root)
    session.meta = meta
    if item.damaged:
        session.notes.append(f"This session is damaged: {item.damaged_reason or meta_problem}. "
                             "What could be read is shown.")
    elif meta_problem:
        session.state = "damaged"
        session.notes.append(f"This session is damaged: {meta_problem}. What could be read is shown.")

    if not item.has_local_files and item.upload_status == "done":
        where = f" as {item.s3_key}" if item.s3_key else ""
        session.state = "removed"
        session.problem = (
            f"The local files of session {session_id} were removed after it was uploaded "
            f"(the delete-after-upload or keep-uploaded setting); the recording is in the bucket{where}. "
            "Copy a link to it from the session's card, or run: sessionrec link " + session_id)
        return session

    if meta is not None and meta.ended_at is None:
        session.notes.append("This session is still being recorded, or was interrupted and is not "
                             "finished yet: what was written so far is shown.")
    _load_actions_and_frames(session, meta)
    session.screenshots = list_screenshots(root)
    if session.problem is None and not session.actions and session.video_rel is None:
        session.state = "damaged"
        session.problem = (f"Session {session_id} has neither a video nor actions that can be read, "
                           "so there is nothing to show.")
    return session


def _load_actions_and_frames(session: ViewerSession, meta: SessionMeta | None) -> None:
    root = session.root
    try:
        rel = video_rel_of(meta)
        if session_files.stat_regular(root, rel) is not None:
            session.video_rel = rel
        else:
            session.notes.append("This session has no video file; only its actions are listed.")
    except OSError as exc:  # UnsafeFile included: a symlink or FIFO where the video should be
        session.state = "damaged"
        session.notes.append(f"The video cannot be opened: {exc}")

    times: list[int] = []
    try:
        values, bad = _read_jsonl(root, FRAMES_FILE)
        times, bad_times = _frame_times(values)
        if bad + bad_times:
            session.notes.append(f"{bad + bad_times} lines of {FRAMES_FILE} could not be read.")
    except FileNotFoundError:
        if session.video_rel is not None:
            times = _times_from_video(session)
    except OSError as exc:
        session.state = "damaged"
        session.notes.append(f"{FRAMES_FILE} cannot be read: {exc}")
    session.frames = FrameIndex(tuple(times))

    actions: list[Action] = []
    try:
        values, bad = _read_jsonl(root, ACTIONS_FILE)
        for line, value in enumerate(values):
            action = parse_action(line, value)
            if action is None:
                bad += 1
            else:
                actions.append(action)
        if bad:
            session.notes.append(f"{bad} lines of {ACTIONS_FILE} could not be read and are left out.")
    except FileNotFoundError:
        session.notes.append(f"This session has no {ACTIONS_FILE}; there are no actions to list.")
    except OSError as exc:
        session.state = "damaged"
        session.notes.append(f"{ACTIONS_FILE} cannot be read: {exc}")
    actions.sort(key=lambda a: (a.t, a.line))
    session.actions = actions
    rebuild_timeline(session)


def _times_from_video(session: ViewerSession) -> list[int]:
    """Without frames.jsonl: the video's own frame times stand in (its first frame at 0, where
    the session clock read a few tens of ms)."""
    from app.playback.decoder import VideoUnreadable, video_pts_ms

    assert session.video_rel is not None
    try:
        times = video_pts_ms(session.root, session.video_rel)
    except (VideoUnreadable, OSError) as exc:
        session.notes.append(f"{FRAMES_FILE} is missing and the video cannot be read ({exc}).")
        return []
    except Exception as exc:  # PyAV's demux errors on a damaged file
        session.notes.append(f"{FRAMES_FILE} is missing and the video cannot be read "
                             f"({type(exc).__name__}).")
        return []
    session.frames_from_video = True
    session.notes.append(f"{FRAMES_FILE} is missing: frame times are taken from the video, so "
                         "actions may be off by a few tens of milliseconds.")
    return times


def rebuild_timeline(session: ViewerSession) -> None:
    """(Re)build the rows; called again once a video-derived frame index is known."""
    meta = session.meta
    have_frames = session.video_rel is not None and session.frames.count > 0
    rows = build_rows(session.actions, meta.pauses if meta else [],
                      session.frames.count if have_frames else None,
                      masked=bool(meta and meta.mask_keys),
                      frame_at=session.frames.index_at)
    session.timeline = Timeline(rows, session.actions)
    session.notes[:] = [n for n in session.notes if not n.startswith("This recording was interrupted")]
    if meta is not None and meta.recovered and have_frames:
        after = sum(1 for row in rows if row.after_video)
        end = format_session_time(session.frames.last_t)
        if after:
            session.notes.insert(0, (
                f"This recording was interrupted and recovered: its video ends at {end}, and the last "
                f"{after} timeline row{'s' if after != 1 else ''} happened after that (marked "
                "“after the end of the video”)."))
        else:
            session.notes.insert(0, f"This recording was interrupted and recovered; its video ends at {end}.")
