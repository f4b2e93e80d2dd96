"""Crash recovery from what is on disk, without a display."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import pytest

from app.recorder import recovery
from app.recorder.recovery import recover_interrupted
from app.recorder.session_lock import SessionLock
from app.recorder.video_file import complete_length, probe
from app.sessions import is_exported, list_sessions, load_meta
from tests.factories import make_session
from tests.recorder.synthetic import interrupted_session
from tests.recorder.videocheck import decode_pts_ms, ffmpeg_errors


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def fragment_offsets(path: Path) -> list[int]:
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"moof":
            offsets.append(pos)
        pos += size
    return offsets


def test_truncated_video_and_actions_are_recovered_and_exported(data_dir: Path) -> None:
    paths, times = interrupted_session(data_dir, seconds=4, fps=10)
    video = paths.video_dir / "screen.mp4"
    moofs = fragment_offsets(video)
    assert len(moofs) >= 3
    # Cut in the middle of the last fragment, as a kill during its write would.
    os.truncate(video, moofs[-1] + 300)
    with paths.actions.open("a") as handle:
        handle.write('{"t": 99999, "type": "cli')  # a half-written line
    full_actions = len(paths.actions.read_text().splitlines()) - 1

    results = recover_interrupted(data_dir)

    assert [(r.session_id, r.finalized, r.exported) for r in results] == [
        (paths.session_id, True, True)]
    assert video.stat().st_size == moofs[-1]
    kept = decoded_frames(video)
    assert 0 < kept < len(times)
    with video.open("rb") as handle:
        assert probe(handle).frames == kept
    frames = [json.loads(line) for line in paths.frames.read_text().splitlines()]
    assert [f["index"] for f in frames] == list(range(kept))
    actions = paths.actions.read_text().splitlines()
    assert len(actions) == full_actions and all(json.loads(a) for a in actions)
    meta = load_meta(paths).value
    assert meta is not None and meta.recovered and meta.ended_at is not None
    assert meta.frame_count == kept and meta.action_count == full_actions
    assert meta.ended_at - meta.created_at >= times[kept - 1]
    assert is_exported(paths) and meta.zip_sha256


def keyframe_flags(path: Path) -> list[bool]:
    with av.open(str(path)) as container:
        return [packet.is_keyframe for packet in container.demux(container.streams.video[0])
                if packet.size]


def test_a_cut_in_any_fragment_leaves_a_clean_video(tmp_path: Path) -> None:
    """Fragments are cut on time, not at keyframes: wherever a kill cuts the file, recovery keeps
    whole fragments only, and what is left decodes from start to end."""
    fps, keyframe_every = 10, 1.5
    source, times = interrupted_session(tmp_path / "source", seconds=6, fps=fps,
                                        keyframe_interval_s=keyframe_every)
    video = source.video_dir / "screen.mp4"
    moofs = fragment_offsets(video)
    assert len(moofs) >= 5
    keyframes = keyframe_flags(video)
    assert [i for i, k in enumerate(keyframes) if k] == [0, 15, 30, 45]
    kept_per_cut = []
    for number, moof in enumerate(moofs[1:], start=1):
        for cut in (moof, moof + 9, moof + 400):
            data_dir = tmp_path / f"cut-{number}-{cut - moof}"
            paths, _ = interrupted_session(data_dir, seconds=6, fps=fps,
                                           keyframe_interval_s=keyframe_every)
            copy = paths.video_dir / "screen.mp4"
            assert copy.read_bytes() == video.read_bytes()
            os.truncate(copy, cut)
            [result] = recover_interrupted(data_dir)
            assert result.exported, result.sentence
            assert ffmpeg_errors(copy) == ""
            pts = decode_pts_ms(copy)
            frames = [json.loads(line) for line in paths.frames.read_text().splitlines()]
            meta = load_meta(paths).value
            assert meta is not None
            with copy.open("rb") as handle:
                probed = probe(handle).frames
            assert len(pts) == len(frames) == meta.frame_count == probed
            assert [f["t"] for f in frames] == times[: len(frames)]
            assert pts == [t - times[0] for t in times[: len(frames)]]
            kept_per_cut.append(len(frames))
    # Every cut lost only the fragment it fell into, and some fragments started on a P-frame.
    assert len(set(kept_per_cut)) == len(moofs) - 1
    starts = sorted(set(kept_per_cut))
    assert any(not keyframes[i] for i in starts if i < len(keyframes))


def test_complete_length_of_an_intact_file_is_its_size(tmp_path: Path) -> None:
    from tests.recorder.synthetic import write_video

    path = tmp_path / "v.mp4"
    write_video(path, 10, 2)
    with path.open("rb") as handle:
        assert complete_length(handle) == path.stat().st_size


def test_session_being_recorded_is_left_alone(data_dir: Path) -> None:
    paths, _ = interrupted_session(data_dir, seconds=1)
    lock = SessionLock(paths.root)
    assert lock.try_acquire()
    try:
        assert recover_interrupted(data_dir) == []
        assert load_meta(paths).value.ended_at is None  # type: ignore[union-attr]
    finally:
        lock.release()
    assert recover_interrupted(data_dir)[0].exported


def test_damaged_meta_is_left_alone_and_kept(data_dir: Path) -> None:
    paths, _ = interrupted_session(data_dir, seconds=1)
    paths.meta.write_text("{not json")
    before = sorted(p.name for p in paths.root.iterdir())
    assert recover_interrupted(data_dir) == []
    assert paths.meta.read_text() == "{not json"
    assert set(before) <= {p.name for p in paths.root.iterdir()}
    assert list_sessions(data_dir)[0].damaged


def test_ended_but_not_exported_is_exported(data_dir: Path) -> None:
    session_id = make_session(data_dir, 1_700_000_000_000, exported=False)
    [result] = recover_interrupted(data_dir)
    assert result.session_id == session_id and result.exported and not result.finalized


def test_nothing_to_do_parses_nothing(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(50):
        make_session(data_dir, 1_700_000_000_000 + i * 1000)

    def no_parsing(*args, **kwargs):
        raise AssertionError("an exported session was parsed")

    monkeypatch.setattr(recovery, "load_meta", no_parsing)
    monkeypatch.setattr(recovery, "SessionLock", no_parsing)
    assert recover_interrupted(data_dir) == []


def test_only_the_tail_of_a_jsonl_file_is_cut(tmp_path: Path) -> None:
    from app.recorder.recovery import complete_lines

    root = tmp_path / "s"
    root.mkdir()
    good = [json.dumps({"t": i * 10, "type": "move"}) for i in range(5)]
    deep = "[" * 100_000 + "]" * 100_000
    huge = json.dumps({"t": "x" * 200_000})
    body = "\n".join([good[0], deep, good[1], "not json", good[2], huge, good[3], good[4]]) + "\n"
    (root / "actions.jsonl").write_text(body + "[[[" + deep + "\n" + '{"t": 9')
    lines = complete_lines(root, "actions.jsonl")
    # The bad lines between good ones stay (user data); the unparsable tail is cut.
    assert (lines.count, lines.last_t) == (5, 40)
    assert (root / "actions.jsonl").read_text() == body
    first_two = complete_lines(root, "actions.jsonl", max_lines=2)
    assert first_two.count == 2 and first_two.last_t == 10
    assert (root / "actions.jsonl").read_text() == "\n".join([good[0], deep, good[1]]) + "\n"
    assert complete_lines(root, "missing.jsonl").count == 0


def test_t_values_no_recorder_writes_are_ignored(tmp_path: Path) -> None:
    from app.recorder.recovery import complete_lines

    root = tmp_path / "s"
    root.mkdir()
    (root / "frames.jsonl").write_text('{"t": 5}\n{"t": 1' + "0" * 40 + '}\n{"t": true}\n'
                                       '{"t": -4}\n{"t": 1e308}\n')
    lines = complete_lines(root, "frames.jsonl")
    assert lines.count == 5 and lines.last_t == 5


def test_the_file_time_base_is_milliseconds(tmp_path: Path) -> None:
    """docs/FORMATS.md: the video track's time base is 1/1000, pts = capture ms (rebased)."""
    from fractions import Fraction

    from tests.recorder.synthetic import write_video

    path = tmp_path / "v.mp4"
    times = write_video(path, 10, 1.5)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base == Fraction(1, 1000)
    assert decode_pts_ms(path) == [t - times[0] for t in times]
