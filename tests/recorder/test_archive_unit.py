"""The zip export: layout, compression per member, manifest, verification, failure paths."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from app.recorder import archive
from app.recorder.archive import ExportError, export_session, verify_zip
from app.sessions import load_meta
from tests.recorder.synthetic import interrupted_session


def finished(data_dir: Path):
    paths, _ = interrupted_session(data_dir, seconds=2)
    meta = load_meta(paths).value
    assert meta is not None
    return paths, dataclasses.replace(meta, ended_at=meta.created_at + 2000, duration_ms=2000)


def test_export_writes_verified_zip_with_manifest(data_dir: Path) -> None:
    paths, meta = finished(data_dir)
    (paths.screenshots_dir / ".half.png.tmp").write_bytes(b"partial")  # never zipped
    final = export_session(paths, meta)
    assert paths.exported_marker.is_file() and not paths.zip_partial.exists()
    assert final.zip_sha256 == hashlib.sha256(paths.zip.read_bytes()).hexdigest()
    assert final.file_size_bytes == paths.zip.stat().st_size
    assert load_meta(paths).value == final
    with zipfile.ZipFile(paths.zip) as z:
        names = set(z.namelist())
        assert names == {"session-meta.json", "actions.jsonl", "frames.jsonl", "video/screen.mp4",
                         "screenshots/click-000000000ms-f000000.png", "manifest.json"}
        assert z.getinfo("video/screen.mp4").compress_type == zipfile.ZIP_STORED
        assert z.getinfo("actions.jsonl").compress_type == zipfile.ZIP_DEFLATED
        assert z.getinfo("session-meta.json").compress_type == zipfile.ZIP_DEFLATED
        manifest = json.loads(z.read("manifest.json"))
        for entry in manifest["files"]:
            data = z.read(entry["path"])
            if entry["path"] != "session-meta.json":  # on disk it gained the zip's own fields
                assert data == (paths.root / entry["path"]).read_bytes()
            assert entry["size"] == len(data)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        inner = json.loads(z.read("session-meta.json"))
        assert inner["endedAt"] == meta.ended_at and "zipSha256" not in inner


def test_verify_catches_a_corrupted_member(data_dir: Path) -> None:
    paths, meta = finished(data_dir)
    export_session(paths, meta)
    data = bytearray(paths.zip.read_bytes())
    offset = data.find(b"mdat") + 64  # inside the stored video
    data[offset] ^= 0xFF
    paths.zip.write_bytes(bytes(data))
    with pytest.raises(ExportError):
        verify_zip(paths.zip)


def test_disk_full_while_zipping_leaves_no_partial_and_no_marker(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths, meta = finished(data_dir)
    real = archive._copy_hashing
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(archive, "_copy_hashing", failing)
    with pytest.raises(ExportError, match="The disk is full"):
        export_session(paths, meta)
    assert not paths.zip_partial.exists() and not paths.zip.exists()
    assert not paths.exported_marker.exists()
    assert (paths.video_dir / "screen.mp4").is_file()  # the recording itself is kept


def test_members_past_the_zip64_limits_read_back(data_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Lower zipfile's 4 GiB limit so the ZIP64 code path runs on a small session.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    paths, meta = finished(data_dir)
    export_session(paths, meta)
    assert (paths.video_dir / "screen.mp4").stat().st_size > 1000
    verify_zip(paths.zip)
    assert b"PK\x06\x06" in paths.zip.read_bytes()  # the ZIP64 end-of-central-directory record
