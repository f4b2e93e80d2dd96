from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.models import SessionMeta, UploadState
from app.sessions import (
    InvalidSessionId,
    created_at_from_id,
    is_valid_session_id,
    list_sessions,
    new_session_id,
    session_paths,
)
from tests.factories import make_session


def test_session_id_pattern() -> None:
    assert is_valid_session_id("20261123-185534-123-abcdef")
    assert is_valid_session_id("a")
    for bad in ("", ".hidden", "-x", "a/b", "..", "a" * 65, "ü", "a b"):
        assert not is_valid_session_id(bad), bad
    with pytest.raises(InvalidSessionId):
        session_paths(Path("/tmp"), "../etc")


def test_new_ids_sort_by_time_and_carry_it() -> None:
    first = new_session_id(1_700_000_000_123)
    second = new_session_id(1_700_000_001_000)
    assert is_valid_session_id(first) and first < second
    assert created_at_from_id(first) == 1_700_000_000_123


def test_listing_newest_first_with_status(data_dir: Path) -> None:
    old = make_session(data_dir, 1_700_000_000_000, status="done")
    mid = make_session(data_dir, 1_700_000_100_000)
    new = make_session(data_dir, 1_700_000_200_000, status="pending")
    items = list_sessions(data_dir)
    assert [i.session_id for i in items] == [new, mid, old]
    by_id = {i.session_id: i for i in items}
    assert by_id[old].upload_status == "done" and by_id[old].upload_progress == 100.0
    assert by_id[mid].upload_status == "not_uploaded" and by_id[mid].upload_progress is None
    assert all(i.is_exported and not i.damaged for i in items)
    assert by_id[mid].file_size_bytes == session_paths(data_dir, mid).zip.stat().st_size


def test_not_exported_without_marker_or_zip(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    paths = session_paths(data_dir, sid)
    paths.zip.unlink()
    (item,) = list_sessions(data_dir)
    assert not item.is_exported and item.zip_path is None and not item.damaged


def test_damaged_sessions_are_listed_with_reason(data_dir: Path) -> None:
    good = make_session(data_dir, 1_700_000_000_000)
    bad_meta = make_session(data_dir, 1_700_000_100_000)
    session_paths(data_dir, bad_meta).meta.write_text('{"sessionId": "x", "createdAt": ')
    bad_state = make_session(data_dir, 1_700_000_200_000)
    session_paths(data_dir, bad_state).upload_state.write_text(json.dumps(
        {"sessionId": bad_state, "status": "exploded", "createdAt": 1, "updatedAt": 1}))
    no_meta = make_session(data_dir, 1_700_000_300_000)
    session_paths(data_dir, no_meta).meta.unlink()

    by_id = {i.session_id: i for i in list_sessions(data_dir)}
    assert not by_id[good].damaged
    assert by_id[bad_meta].damaged and "not valid JSON" in (by_id[bad_meta].damaged_reason or "")
    assert by_id[bad_state].damaged and "status" in (by_id[bad_state].damaged_reason or "")
    assert by_id[no_meta].damaged and "missing" in (by_id[no_meta].damaged_reason or "")
    # What could be read is still shown: the id-derived time keeps it in order.
    assert by_id[no_meta].created_at == 1_700_000_300_000


def test_meta_naming_another_session_is_damaged(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    other = SessionMeta(session_id="someone-else", created_at=1)
    session_paths(data_dir, sid).meta.write_text(json.dumps(other.to_json()))
    (item,) = list_sessions(data_dir)
    assert item.damaged and "another session" in (item.damaged_reason or "")


def test_bad_names_and_symlinks_are_ignored(data_dir: Path, tmp_path: Path) -> None:
    make_session(data_dir, 1_700_000_000_000)
    sessions = data_dir / "sessions"
    (sessions / ".partial").mkdir()
    (sessions / "has space").mkdir()
    (sessions / "file-not-dir").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "session-meta.json").write_text(json.dumps(
        SessionMeta(session_id="linked", created_at=1).to_json()))
    os.symlink(outside, sessions / "linked")
    items = list_sessions(data_dir)
    assert len(items) == 1 and items[0].session_id != "linked"


def test_list_item_json_is_camel_case(data_dir: Path) -> None:
    make_session(data_dir, 1_700_000_000_000, status="uploading")
    (item,) = list_sessions(data_dir)
    doc = item.to_json()
    for key in ("sessionId", "createdAt", "isExported", "uploadStatus", "actionCount", "damaged"):
        assert key in doc
    assert doc["damaged"] is False
    assert not any("_" in key for key in doc)


def test_upload_state_round_trip_with_multipart() -> None:
    doc = {
        "sessionId": "s1", "status": "uploading", "createdAt": 1, "updatedAt": 2,
        "bytesUploaded": 10, "totalBytes": 20,
        "multipart": {"uploadId": "u", "partSize": 5, "fileSize": 20, "fileMtimeNs": 3,
                      "parts": [{"partNumber": 1, "etag": "\"e\"", "checksum": "c"}]},
    }
    state = UploadState.from_json(doc)
    assert state.multipart is not None and state.multipart.parts[0].etag == "\"e\""
    again = state.to_json()
    assert again["multipart"]["parts"][0]["partNumber"] == 1
    assert UploadState.from_json(again) == state


def test_a_linked_session_folder_is_refused_with_a_sentence(data_dir: Path, tmp_path: Path) -> None:
    from app.sessions import UnsafeSessionFolder

    outside = tmp_path / "outside"
    outside.mkdir()
    sid = "20260101-000000-000-abcdef"
    (data_dir / "sessions" / sid).symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeSessionFolder, match="is a symbolic link") as info:
        session_paths(data_dir, sid)
    assert isinstance(info.value, InvalidSessionId)  # every caller that handles bad ids copes
    assert session_paths(data_dir, "20260101-000000-000-000000").root.name  # missing is fine


def test_delete_removes_only_a_link_in_place_of_the_folder(data_dir: Path, tmp_path: Path) -> None:
    from app.sessions import delete_session_folder
    from tests.hostile import Victim

    victim = Victim.make(tmp_path / "outside")
    linked = "20260101-000000-000-abcdef"
    (data_dir / "sessions" / linked).symlink_to(victim.folder, target_is_directory=True)
    delete_session_folder(data_dir, linked)
    assert not os.path.lexists(data_dir / "sessions" / linked)
    real = make_session(data_dir, 1_700_000_000_000)
    root = session_paths(data_dir, real).root
    (root / "video" / "out").symlink_to(victim.folder, target_is_directory=True)
    (root / "actions.jsonl").unlink()
    (root / "actions.jsonl").symlink_to(victim.file)
    delete_session_folder(data_dir, real)
    assert not root.exists()
    delete_session_folder(data_dir, real)  # already gone: fine
    victim.assert_unchanged()
    with pytest.raises(InvalidSessionId):
        delete_session_folder(data_dir, "../outside")
