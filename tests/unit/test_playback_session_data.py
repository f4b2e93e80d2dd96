"""What the viewer reads from a session folder, and the sentence it shows for every bad case."""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.models import UploadState
from app.playback.session_data import load_viewer_session
from app.retention import remove_local_files
from app.sessions import save_upload_state, session_paths
from tests.videos import video_session

SID = "20240101-120000-000-abcdef"


def clicks(*frames_and_times: tuple[int, int]) -> list[dict]:
    return [{"t": t, "type": "click", "x": 10, "y": 20, "button": "left", "pressed": True, "frame": f}
            for f, t in frames_and_times]


def test_a_good_session_has_rows_frames_and_screenshots(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=3, actions=clicks((5, 540), (20, 2040)))
    paths.screenshots_dir.mkdir()
    (paths.screenshots_dir / "periodic-000001037ms-f000010.png").write_bytes(b"png")
    (paths.screenshots_dir / "click-000000540ms-f000005.png").write_bytes(b"png")
    (paths.screenshots_dir / "notes.txt").write_text("not a screenshot")
    session = load_viewer_session(data_dir, SID)
    assert session.state == "ok" and session.problem is None and session.notes == []
    assert session.video_rel == "video/screen.mp4" and session.frames.count == 30
    assert [r.frame for r in session.timeline.rows] == [5, 20]
    assert [(s.kind, s.t_ms, s.frame) for s in session.screenshots] == [
        ("click", 540, 5), ("periodic", 1037, 10)]


def test_missing_and_invalid_sessions(data_dir: Path) -> None:
    assert load_viewer_session(data_dir, SID).problem == f"There is no session {SID} in {data_dir}."
    invalid = load_viewer_session(data_dir, "../etc")
    assert invalid.state == "missing" and "is not a session id" in (invalid.problem or "")


def test_files_removed_after_upload_say_so(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1)
    save_upload_state(paths, UploadState(session_id=SID, status="done", created_at=1, updated_at=2,
                                         s3_key=f"team/{SID}.zip"))
    remove_local_files(data_dir, SID)
    session = load_viewer_session(data_dir, SID)
    assert session.state == "removed"
    assert session.problem is not None
    assert "were removed after it was uploaded" in session.problem and f"team/{SID}.zip" in session.problem


def test_damaged_parts_become_sentences_and_the_rest_is_shown(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=2, actions=clicks((3, 340)))
    with paths.actions.open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"t": 1, "type": "click"}) + "\n")
    paths.meta.write_text('{"sessionId": ')
    session = load_viewer_session(data_dir, SID)
    assert session.state == "damaged" and session.problem is None
    assert any(n.startswith("This session is damaged: session-meta.json") for n in session.notes)
    assert "2 lines of actions.jsonl could not be read and are left out." in session.notes
    assert len(session.timeline.rows) == 1 and session.video_rel == "video/screen.mp4"


def test_an_unsafe_video_is_never_opened(data_dir: Path, tmp_path: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1, actions=clicks((1, 140)))
    target = paths.video_dir / "screen.mp4"
    os.replace(target, tmp_path / "elsewhere.mp4")
    target.symlink_to(tmp_path / "elsewhere.mp4")
    session = load_viewer_session(data_dir, SID)
    assert session.video_rel is None and session.state == "damaged"
    assert any("The video cannot be opened" in n and "symbolic link" in n for n in session.notes)
    assert len(session.timeline.rows) == 1  # the actions are still listed


def test_no_video_and_no_frames_file(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=2, actions=clicks((3, 340)))
    paths.frames.unlink()
    session = load_viewer_session(data_dir, SID)
    assert session.frames_from_video and session.frames.count == 20
    assert session.frames.video_ms_of(3) == 300
    assert any("frames.jsonl is missing" in n for n in session.notes)
    (paths.video_dir / "screen.mp4").unlink()
    session = load_viewer_session(data_dir, SID)
    assert session.video_rel is None
    assert "This session has no video file; only its actions are listed." in session.notes


def test_nothing_readable_is_one_sentence(data_dir: Path) -> None:
    paths = session_paths(data_dir, SID)
    paths.root.mkdir(parents=True)
    session = load_viewer_session(data_dir, SID)
    assert session.state == "damaged"
    assert session.problem == (f"Session {SID} has neither a video nor actions that can be read, so "
                               "there is nothing to show.")


def test_a_recovered_session_says_which_rows_come_after_the_video(data_dir: Path) -> None:
    video_session(data_dir, SID, seconds=2, recovered=True,
                  actions=clicks((5, 540), (19, 1937), (20, 2010), (22, 2230)))
    session = load_viewer_session(data_dir, SID)
    assert [r.after_video for r in session.timeline.rows] == [False, False, True, True]
    assert session.notes[0] == (
        "This recording was interrupted and recovered: its video ends at 0:01.9, and the last 2 "
        "timeline rows happened after that (marked “after the end of the video”).")
