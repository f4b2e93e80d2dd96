"""The trust rule, black-box through the command line: hostile session folders (links, FIFOs,
folders where files belong, paths in JSON that leave the folder, deep nesting) never make
sessionrec read, write, truncate or upload anything outside the data folder, never hang it
(every run has a time limit) and never print a traceback; the session is listed, damaged
where it breaks the rule."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from tests import hostile
from tests.hostile import Victim, assert_no_traceback, listed, run_sessionrec

T0 = hostile.T0


@pytest.fixture
def victim(tmp_path: Path) -> Victim:
    return Victim.make(tmp_path / "outside")


def _objects(s3_server: Any, bucket: str) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket)
    return [entry["Key"] for entry in listing.get("Contents", [])]


def _healthy_and_hostile(data_dir: Path, victim: Victim, kind: hostile.Kind,
                         mutation: str) -> tuple[str, str]:
    healthy = hostile.exported(data_dir, T0)
    bad = hostile.BUILDERS[kind](data_dir, T0 + 60_000)
    hostile.apply(bad, victim, mutation)
    return healthy.session_id, bad.session_id


@pytest.mark.parametrize(("mutation", "reason"), [
    ("symlink:frames.jsonl", "frames.jsonl in session"),
    ("symlink:actions.jsonl", "actions.jsonl in session"),
    ("symlink:video/screen.mp4", "video/screen.mp4 in session"),
    ("folder-symlink:video", "video in session"),
    ("videoRef:absolute", "unsafe videoRef"),
    ("videoRef:dotdot", "unsafe videoRef"),
])
def test_recovery_never_follows_a_link_or_a_path_out_of_an_interrupted_session(
        data_dir: Path, victim: Victim, mutation: str, reason: str) -> None:
    healthy, bad = _healthy_and_hostile(data_dir, victim, "interrupted", mutation)
    frames_before = session_paths(data_dir, bad).root / "frames.jsonl"
    kept = frames_before.read_bytes() if not frames_before.is_symlink() else None
    for _ in range(2):  # the next start must not "finish the job" either
        items = listed(data_dir)
        assert set(items) == {healthy, bad}
        assert not items[healthy]["damaged"]
        assert items[bad]["damaged"] and reason in items[bad]["damagedReason"], items[bad]
        assert not items[bad]["isExported"]
        victim.assert_unchanged()
    plain = run_sessionrec(data_dir, "list")
    assert_no_traceback(plain)
    assert plain.returncode == 0 and "DAMAGED" in plain.stdout
    paths = session_paths(data_dir, bad)
    assert not paths.zip.exists() and not paths.exported_marker.exists()
    if kept is not None:  # nothing of the session itself was cut either
        assert frames_before.read_bytes() == kept


def test_symlinked_zip_with_marker_is_damaged_and_never_uploaded(
        data_dir: Path, victim: Victim, s3_server: Any, bucket: str, s3_config: Any) -> None:
    s3_config()
    paths = hostile.exported(data_dir)
    hostile.apply(paths, victim, "symlink:session.zip")
    item = listed(data_dir)[paths.session_id]
    assert item["damaged"] and "session.zip in session" in item["damagedReason"]
    assert not item["isExported"] and "zipPath" not in item
    for args in (["upload", paths.session_id], ["upload", paths.session_id, "--wait"]):
        result = run_sessionrec(data_dir, *args)
        assert_no_traceback(result)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "session.zip in session" in result.stderr
        assert "is a symbolic link" in result.stderr
    assert _objects(s3_server, bucket) == []
    assert not paths.upload_state.exists()
    assert paths.zip.is_symlink()  # left as it is: never deleted, never written through
    victim.assert_unchanged()


def test_ended_session_with_a_symlinked_frames_file_is_not_packed(
        data_dir: Path, victim: Victim, s3_server: Any, bucket: str, s3_config: Any) -> None:
    s3_config()
    paths = hostile.ended_unexported(data_dir)
    hostile.apply(paths, victim, "symlink:frames.jsonl")
    item = listed(data_dir)[paths.session_id]
    assert item["damaged"] and "frames.jsonl in session" in item["damagedReason"]
    assert not item["isExported"]
    assert not paths.zip.exists() and not paths.zip_partial.exists()
    result = run_sessionrec(data_dir, "upload", paths.session_id, "--wait")
    assert_no_traceback(result)
    assert result.returncode == 2 and "not exported" in result.stderr
    assert _objects(s3_server, bucket) == []
    victim.assert_unchanged()


def test_symlinked_session_folder_is_never_listed_read_written_or_uploaded(
        data_dir: Path, victim: Victim, s3_server: Any, bucket: str, s3_config: Any) -> None:
    s3_config()
    session_id = hostile.symlinked_session_folder(data_dir, victim)
    target = victim.file.parent / "outside-data" / "sessions" / session_id
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in target.iterdir() if p.is_file()}
    assert listed(data_dir) == {}
    for args in (["upload", session_id], ["upload", session_id, "--wait"], ["retry", session_id],
                 ["cancel", session_id]):
        result = run_sessionrec(data_dir, *args)
        assert_no_traceback(result)
        assert result.returncode == 2, (args, result.stderr)
        assert "is a symbolic link" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in target.iterdir() if p.is_file()}
    assert after == before  # no upload-state.json written into it, nothing changed
    assert _objects(s3_server, bucket) == []
    victim.assert_unchanged()


@pytest.mark.parametrize(("kind", "mutation"), [
    ("exported", "fifo:session-meta.json"),
    ("exported", "fifo:upload-state.json"),
    ("exported", "fifo:session.zip"),
    ("interrupted", "fifo:session-meta.json"),
    ("interrupted", "fifo:frames.jsonl"),
    ("interrupted", "fifo:video/screen.mp4"),
])
def test_a_fifo_in_place_of_a_session_file_never_hangs(
        data_dir: Path, victim: Victim, kind: hostile.Kind, mutation: str) -> None:
    healthy, bad = _healthy_and_hostile(data_dir, victim, kind, mutation)
    items = listed(data_dir)  # a hang raises TimeoutExpired
    assert set(items) == {healthy, bad}
    assert items[bad]["damaged"] and "is a FIFO" in items[bad]["damagedReason"]
    plain = run_sessionrec(data_dir, "list")
    assert_no_traceback(plain)
    assert plain.returncode == 0
    victim.assert_unchanged()


def test_a_fifo_in_place_of_the_settings_or_credentials_never_hangs(
        data_dir: Path, s3_server: Any, bucket: str, s3_config: Any) -> None:
    s3_config()
    paths = hostile.exported(data_dir)
    (data_dir / "credentials.json").unlink()
    os.mkfifo(data_dir / "credentials.json")
    for args in (["list"], ["config", "show"], ["upload", paths.session_id, "--wait"],
                 ["queue", "--wait"]):
        result = run_sessionrec(data_dir, *args)
        assert_no_traceback(result)
        assert result.returncode in (0, 1, 2), result.stderr
    assert _objects(s3_server, bucket) == []  # no secret, no upload
    (data_dir / "upload-config.json").unlink()
    os.mkfifo(data_dir / "upload-config.json")
    shown = run_sessionrec(data_dir, "config", "show")
    assert_no_traceback(shown)
    assert shown.returncode == 2 and "upload-config.json is a FIFO" in shown.stderr
    result = run_sessionrec(data_dir, "upload", paths.session_id)
    assert_no_traceback(result)
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("kind", "mutation", "reason"), [
    ("exported", "directory:session-meta.json", "session-meta.json in session"),
    ("exported", "directory:session.zip", "session.zip in session"),
    ("interrupted", "directory:actions.jsonl", "actions.jsonl in session"),
    ("interrupted", "file-for-folder:video", "video in session"),
])
def test_a_folder_in_place_of_a_file_is_damaged(data_dir: Path, victim: Victim, kind: hostile.Kind,
                                                mutation: str, reason: str) -> None:
    healthy, bad = _healthy_and_hostile(data_dir, victim, kind, mutation)
    items = listed(data_dir)
    assert set(items) == {healthy, bad} and not items[healthy]["damaged"]
    assert items[bad]["damaged"] and reason in items[bad]["damagedReason"]
    victim.assert_unchanged()


@pytest.mark.parametrize("mutation", ["deep-line:actions.jsonl", "deep-line:frames.jsonl",
                                      "deep-line-first:actions.jsonl", "huge-line:frames.jsonl"])
def test_deep_nesting_in_an_interrupted_session_hides_nothing(
        data_dir: Path, victim: Victim, mutation: str) -> None:
    healthy, bad = _healthy_and_hostile(data_dir, victim, "interrupted", mutation)
    other = hostile.interrupted(data_dir, T0 + 120_000)  # recovered in the same run
    result = run_sessionrec(data_dir, "list", "--json")
    assert_no_traceback(result)
    assert "RecursionError" not in result.stderr
    items = {item["sessionId"]: item for item in json.loads(result.stdout)}
    assert set(items) == {healthy, bad, other.session_id}
    for session_id in (bad, other.session_id):
        assert items[session_id]["isExported"] and not items[session_id]["damaged"]
        assert items[session_id]["recovered"]
    victim.assert_unchanged()


def test_a_new_data_folder_is_private_whatever_the_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    result = run_sessionrec(data_dir, "list", umask=0)
    assert result.returncode == 0, result.stderr
    for folder in (data_dir, data_dir / "sessions", data_dir / "logs"):
        assert hostile.file_mode(folder) == 0o700, folder
    assert hostile.file_mode(data_dir / "logs" / "sessionrec.log") == 0o600
    # What recovery writes is private too.
    paths = hostile.interrupted(data_dir)
    os.chmod(paths.root, 0o700)
    run = run_sessionrec(data_dir, "list", umask=0)
    assert run.returncode == 0 and listed(data_dir)[paths.session_id]["isExported"]
    for name in ("session.zip", ".exported", "session-meta.json", ".recording.lock"):
        assert hostile.file_mode(paths.root / name) == 0o600, name


def test_an_old_data_folder_is_tightened_once_with_one_log_line(tmp_path: Path, victim: Victim) -> None:
    data_dir = tmp_path / "old"
    (data_dir / "sessions").mkdir(parents=True)
    (data_dir / "logs").mkdir()
    paths = hostile.exported(data_dir)
    (data_dir / "upload-config.json").write_text("{}")
    for folder in (data_dir, data_dir / "sessions", data_dir / "logs", paths.root, paths.video_dir):
        os.chmod(folder, 0o755)
    for file in (paths.zip, paths.meta, paths.video_dir / "screen.mp4", data_dir / "upload-config.json"):
        os.chmod(file, 0o644)
    os.chmod(victim.file, 0o644)
    (data_dir / "link-out").symlink_to(victim.file)  # links are never followed to tighten
    (paths.root / "link-out").symlink_to(victim.file)

    assert run_sessionrec(data_dir, "list").returncode == 0
    assert run_sessionrec(data_dir, "list").returncode == 0
    for folder in (data_dir, data_dir / "sessions", data_dir / "logs", paths.root, paths.video_dir):
        assert hostile.file_mode(folder) == 0o700, folder
    for file in (paths.zip, paths.meta, paths.video_dir / "screen.mp4", data_dir / "upload-config.json",
                 data_dir / "logs" / "sessionrec.log"):
        assert hostile.file_mode(file) == 0o600, file
    assert hostile.file_mode(victim.file) == 0o644
    victim.assert_unchanged()
    log = (data_dir / "logs" / "sessionrec.log").read_text()
    lines = [line for line in log.splitlines() if "Made the data folder private" in line]
    assert len(lines) == 1, log  # the second start found nothing to do
    assert "the data folder, sessions/, logs/, 1 session folder(s)" in lines[0]
