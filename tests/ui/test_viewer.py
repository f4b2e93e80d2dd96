"""The session viewer driven with pytest-qt on a real session recorded on Xvfb (xdotool clicks,
scroll and typing captured by pynput): timeline rows, seeking by clicking a row, playback
highlighting, the click marker in the rendered pixels, recovered / damaged / removed sessions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.models import UploadState
from app.paths import ensure_data_dir
from app.playback.timeline import format_session_time
from app.recorder.recovery import recover_interrupted
from app.retention import remove_local_files
from app.sessions import save_upload_state, session_paths
from app.widgets.session_viewer import SessionViewer
from app.widgets.timeline_view import AFTER_VIDEO
from app.widgets.video_view import MARKER_COLOUR, MARKER_RADIUS, MARKER_WIDTH
from app.widgets.video_worker import ShownFrame
from tests.ui.recorded import CLICKS, Recorded, copy_session, decoded_pts_ms, fragment_offsets

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def open_viewer(qtbot: QtBot, data_dir: Path, session_id: str, wait_frame: bool = True) -> SessionViewer:
    viewer = SessionViewer(data_dir, session_id)
    qtbot.addWidget(viewer)
    viewer.resize(1200, 760)
    viewer.show()
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.start()
    if wait_frame:
        qtbot.waitUntil(lambda: viewer.current is not None, timeout=20_000)
    return viewer


def shown_after(qtbot: QtBot, viewer: SessionViewer, request: int) -> ShownFrame:
    assert request > 0
    try:
        qtbot.waitUntil(lambda: viewer.current is not None and viewer.current.request == request,
                        timeout=10_000)
    except Exception as exc:
        current = viewer.current
        raise AssertionError(f"no frame for request {request}: current "
                             f"{current and (current.request, current.index)}, message "
                             f"{viewer.video.message!r}, worker {viewer.worker}") from exc
    assert viewer.current is not None
    return viewer.current


def expected_rows(actions: list[dict]) -> list[tuple[int, str]]:
    """The rows the timeline must show, worked out from actions.jsonl here, independently."""
    rows: list[tuple[int, str]] = []
    scroll: list[dict] = []
    keys: list[dict] = []
    names = {"left": "Left", "right": "Right"}

    def flush() -> None:
        if scroll:
            first = scroll[0]
            rows.append((first["t"], f"Scrolled down {len(scroll)} at {first['x']}, {first['y']}"))
            scroll.clear()
        if keys:
            text = "".join("⏎" if k["key"] == "enter" else k["key"] for k in keys)
            rows.append((keys[0]["t"], f"Typed {text}"))
            keys.clear()

    for action in actions:
        if action["type"] == "scroll":
            scroll.append(action)
        elif action["type"] == "key_down":
            keys.append(action)
        elif action["type"] == "click" and action["pressed"]:
            flush()
            rows.append((action["t"], f"{names[action['button']]} click at {action['x']}, {action['y']}"))
    flush()
    return sorted(rows)


def test_timeline_rows_match_actions_jsonl(qtbot: QtBot, recorded_session: Recorded) -> None:
    viewer = open_viewer(qtbot, recorded_session.data_dir, recorded_session.session_id)
    model = viewer.timeline.timeline_model
    shown = [(model.data(model.index(r, 0)), model.data(model.index(r, 1))) for r in range(model.rowCount())]
    expected = expected_rows(recorded_session.actions())
    assert shown == [(format_session_time(t), text) for t, text in expected]
    # What was injected: four clicks at these places, two scroll steps, "hello" and Return.
    assert [text for _t, text in expected] == [
        "Left click at 200, 150", "Scrolled down 2 at 200, 150", "Left click at 640, 360",
        "Right click at 1000, 560", "Typed hello⏎", "Left click at 300, 500"]
    assert viewer.notes_text() == ""
    assert viewer.strip.count() == len(list((recorded_session.root / "screenshots").glob("*.png"))) >= 7
    qtbot.waitUntil(lambda: viewer.strip.loaded_count == viewer.strip.count(), timeout=20_000)


def test_clicking_a_row_seeks_to_the_frame_of_its_action(qtbot: QtBot, recorded_session: Recorded) -> None:
    viewer = open_viewer(qtbot, recorded_session.data_dir, recorded_session.session_id)
    actions = recorded_session.actions()
    times = recorded_session.frame_times()
    pts = decoded_pts_ms(recorded_session.root / "video" / "screen.mp4")
    assert len(pts) == len(times)
    presses = [a for a in actions if a["type"] == "click" and a["pressed"]]
    rows = viewer.session.timeline.rows if viewer.session else []
    table = viewer.timeline
    for press in reversed(presses):  # backwards too: every seek goes back to a keyframe
        row = next(i for i, r in enumerate(rows) if r.kind == "click" and r.t_ms == press["t"])
        index = table.timeline_model.index(row, 1)
        table.scrollTo(index)
        before = viewer.last_request
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
        qtbot.waitUntil(lambda b=before: viewer.last_request != b, timeout=5000)  # type: ignore[misc]
        frame = shown_after(qtbot, viewer, viewer.last_request)
        assert frame.index == press["frame"]
        assert frame.pts_ms == pytest.approx(pts[press["frame"]], abs=0.5)  # PyAV's own decode
        assert frame.t_ms == times[press["frame"]] <= press["t"]
        assert table.current_row() == row  # the row stays highlighted after the seek
        assert viewer.time_label.text().startswith(format_session_time(frame.t_ms))
    # The picture is that frame: compare with an independent decode of the same frame.
    with av.open(str(recorded_session.root / "video" / "screen.mp4")) as container:
        reference = [f for f in container.decode(video=0)][presses[0]["frame"]]
    assert viewer.current is not None
    image = viewer.current.rgb
    expected = reference.to_ndarray(format="rgb24", width=image.shape[1], height=image.shape[0])
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < 3


def test_playing_advances_the_highlighted_row(qtbot: QtBot, recorded_session: Recorded) -> None:
    viewer = open_viewer(qtbot, recorded_session.data_dir, recorded_session.session_id)
    shown_after(qtbot, viewer, viewer.seek_to_frame(0))
    assert viewer.timeline.current_row() is None  # before the first action
    highlighted: list[tuple[int, int | None]] = []
    viewer.frameShown.connect(lambda f: highlighted.append((f.t_ms, viewer.timeline.current_row())))
    viewer.speed_box.setCurrentIndex(viewer.speed_box.findData(4.0))
    viewer.play_button.click()
    qtbot.waitUntil(lambda: viewer.playing, timeout=5000)
    assert viewer.play_button.text() == "Pause"
    rows = viewer.session.timeline.rows if viewer.session else []
    qtbot.waitUntil(lambda: (viewer.timeline.current_row() or 0) >= len(rows) - 1, timeout=20_000)
    viewer.pause()
    qtbot.waitUntil(lambda: not viewer.playing, timeout=5000)
    seen = [row for _t, row in highlighted if row is not None]
    assert seen == sorted(seen) and len(set(seen)) >= 4  # advanced through the rows, never back
    for t, row in highlighted:
        if row is not None:
            assert rows[row].t_ms <= t + 100  # the highlighted row had started by that frame
    selected = viewer.timeline.selectionModel().selectedRows()
    assert [i.row() for i in selected] == [viewer.timeline.current_row()]
    frames = [t for t, _row in highlighted]
    assert frames == sorted(frames) and len(frames) >= 8


def marker_pixels(image: QImage, x: float, y: float) -> list[QColor]:
    """Pixels on the marker ring (radius R) around (x, y), at 8 compass points."""
    out = []
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (0.7071, 0.7071), (-0.7071, 0.7071),
                   (0.7071, -0.7071), (-0.7071, -0.7071)):
        out.append(image.pixelColor(round(x + dx * MARKER_RADIUS), round(y + dy * MARKER_RADIUS)))
    return out


def near(colour: QColor, target: QColor, tolerance: int = 40) -> bool:
    return max(abs(colour.red() - target.red()), abs(colour.green() - target.green()),
               abs(colour.blue() - target.blue())) <= tolerance


def test_the_click_marker_is_drawn_where_the_click_happened(qtbot: QtBot, recorded_session: Recorded
                                                            ) -> None:
    viewer = open_viewer(qtbot, recorded_session.data_dir, recorded_session.session_id)
    press = next(a for a in recorded_session.actions()
                 if a["type"] == "click" and a["pressed"] and (a["x"], a["y"]) == CLICKS[1][:2])
    shown_after(qtbot, viewer, viewer.seek_to_frame(press["frame"]))
    video = viewer.video
    rect = video.picture_rect()
    assert rect.width() > 200
    sx, sy, sw, sh = video.screen_rect or (0, 0, 0, 0)
    assert (sx, sy, sw, sh) == (0, 0, 1280, 720)
    # Where (640, 360) on the recorded screen lands in the view, worked out here.
    x = rect.x() + (press["x"] + 0.5) * rect.width() / sw
    y = rect.y() + (press["y"] + 0.5) * rect.height() / sh
    with_marker = video.grab().toImage()
    ring = marker_pixels(with_marker, x, y)
    assert all(near(c, MARKER_COLOUR) for c in ring), [c.name() for c in ring]
    assert near(with_marker.pixelColor(round(x), round(y)), MARKER_COLOUR)  # the centre dot
    # Off the ring (between the dot and the ring, and well outside) the picture shows through.
    assert not near(with_marker.pixelColor(round(x + MARKER_RADIUS + MARKER_WIDTH + 6), round(y)),
                    MARKER_COLOUR)
    video.show_overlay = False
    without = video.grab().toImage()
    video.show_overlay = True
    assert not any(near(c, MARKER_COLOUR) for c in marker_pixels(without, x, y))
    # A second later the click is over: no marker.
    later = viewer.session.frames.index_at(press["t"] + 1000) if viewer.session else 0
    shown_after(qtbot, viewer, viewer.seek_to_frame(later))
    assert not any(near(c, MARKER_COLOUR) for c in marker_pixels(video.grab().toImage(), x, y))


def test_keys_are_captioned_and_controls_step(qtbot: QtBot, recorded_session: Recorded) -> None:
    viewer = open_viewer(qtbot, recorded_session.data_dir, recorded_session.session_id)
    keys = [a for a in recorded_session.actions() if a["type"] == "key_down"]
    assert viewer.session is not None
    timeline = viewer.session.timeline
    frame = shown_after(qtbot, viewer, viewer.seek_to_frame(keys[-1]["frame"] + 1))
    assert timeline.caption_at(frame.t_ms) == "hello⏎"
    start = frame.index
    qtbot.keyClick(viewer, Qt.Key.Key_Period)
    assert shown_after(qtbot, viewer, viewer.last_request).index == start + 1
    viewer.frame_back_button.click()
    assert shown_after(qtbot, viewer, viewer.last_request).index == start
    viewer.back_button.click()
    back = shown_after(qtbot, viewer, viewer.last_request)
    assert back.index == viewer.session.frames.index_at(frame.t_ms - 5000)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    forward = shown_after(qtbot, viewer, viewer.last_request)
    assert forward.index == viewer.session.frames.index_at(back.t_ms + 5000)
    shot = viewer.strip.shots[2]
    viewer.strip.itemClicked.emit(viewer.strip.item(2))
    assert shown_after(qtbot, viewer, viewer.last_request).index == shot.frame


def make_recovered(source: Recorded, data_dir: Path, keep_fragments: int) -> Recorded:
    """The recorded session as a kill -9 would have left it, finished by the real recovery."""
    copy = copy_session(source, data_dir)
    video = copy.root / "video" / "screen.mp4"
    offsets = fragment_offsets(video)
    assert len(offsets) > keep_fragments + 1
    os.truncate(video, offsets[keep_fragments] + 100)  # a fragment cut in the middle
    meta = json.loads((copy.root / "session-meta.json").read_text())
    for name in ("endedAt", "zipPath", "fileSizeBytes", "zipSha256"):
        meta.pop(name, None)
    (copy.root / "session-meta.json").write_text(json.dumps(meta))
    (copy.root / ".exported").unlink()
    (copy.root / "session.zip").unlink()
    [result] = recover_interrupted(data_dir)
    assert result.finalized and result.exported
    return copy


def test_a_recovered_session_says_which_actions_come_after_the_video(
        qtbot: QtBot, recorded_session: Recorded, tmp_path: Path) -> None:
    copy = make_recovered(recorded_session, ensure_data_dir(tmp_path / "data"), keep_fragments=3)
    frames = len(copy.frame_times())
    late = [a for a in copy.actions() if a["type"] != "move" and a["frame"] >= frames]
    assert late, "the cut must leave actions after the end of the video"
    viewer = open_viewer(qtbot, copy.data_dir, copy.session_id)
    assert viewer.session is not None
    rows = viewer.session.timeline.rows
    after = [r for r in rows if r.after_video]
    assert after and all(r.frame >= frames for r in after)
    assert all(r.frame < frames for r in rows if not r.after_video)
    assert viewer.notes_text().startswith("This recording was interrupted and recovered: its video "
                                          f"ends at {format_session_time(copy.frame_times()[-1])}")
    assert f"the last {len(after)} timeline row" in viewer.notes_text()
    model = viewer.timeline.timeline_model
    position = rows.index(after[0])
    assert str(model.data(model.index(position, 1))).endswith(f"— {AFTER_VIDEO}")
    viewer.seek_to_row(position)  # nothing to show after the end: the last frame is shown
    assert shown_after(qtbot, viewer, viewer.last_request).index == frames - 1


def test_a_damaged_session_opens_with_its_sentence(qtbot: QtBot, recorded_session: Recorded,
                                                   tmp_path: Path) -> None:
    data_dir = ensure_data_dir(tmp_path / "data")
    copy = copy_session(recorded_session, data_dir)
    video = copy.root / "video" / "screen.mp4"
    video.write_bytes(os.urandom(video.stat().st_size // 4))
    viewer = open_viewer(qtbot, data_dir, copy.session_id, wait_frame=False)
    qtbot.waitUntil(lambda: (viewer.video.message or "").startswith("The video cannot"), timeout=20_000)
    sentence = str(viewer.video.message)
    assert sentence.startswith("The video cannot be read (") and sentence.endswith(
        "The session's actions are still listed beside.")
    assert not viewer.play_button.isEnabled() and viewer.current is None
    assert viewer.timeline.timeline_model.rowCount() == len(expected_rows(copy.actions()))
    viewer.close()

    (copy.root / "session-meta.json").write_text('{"sessionId": "truncat')
    viewer = open_viewer(qtbot, data_dir, copy.session_id, wait_frame=False)
    assert viewer.notes_text().startswith("This session is damaged: session-meta.json")


def test_files_removed_after_upload_are_said_to_be_gone(qtbot: QtBot, recorded_session: Recorded,
                                                        tmp_path: Path) -> None:
    data_dir = ensure_data_dir(tmp_path / "data")
    copy = copy_session(recorded_session, data_dir)
    paths = session_paths(data_dir, copy.session_id)
    save_upload_state(paths, UploadState(session_id=copy.session_id, status="done", created_at=1,
                                         updated_at=2, s3_key=f"team/{copy.session_id}.zip"))
    remove_local_files(data_dir, copy.session_id)
    viewer = open_viewer(qtbot, data_dir, copy.session_id, wait_frame=False)
    assert viewer.worker is None and not viewer.play_button.isEnabled()
    assert viewer.video.message is not None
    assert viewer.video.message.startswith(f"The local files of session {copy.session_id} were removed "
                                           "after it was uploaded")
    assert f"sessionrec link {copy.session_id}" in viewer.video.message
