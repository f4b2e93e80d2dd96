from __future__ import annotations

from pathlib import Path

from app.models import UPLOAD_STATUSES
from app.retention import RetentionPolicy, apply_cleanup, plan_cleanup
from app.sessions import list_sessions, session_paths
from tests.factories import make_session


def _one_of_each(data_dir: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    for offset, status in enumerate(UPLOAD_STATUSES):
        ids[status] = make_session(data_dir, 1_700_000_000_000 + offset * 1000, status=status)
    ids["unsent"] = make_session(data_dir, 1_700_000_900_000)  # no upload-state.json at all
    damaged_done = make_session(data_dir, 1_700_001_000_000, status="done")
    session_paths(data_dir, damaged_done).meta.write_text("{broken")
    ids["damaged_done"] = damaged_done
    return ids


def test_nothing_is_removed_without_a_policy(data_dir: Path) -> None:
    _one_of_each(data_dir)
    assert plan_cleanup(list_sessions(data_dir), RetentionPolicy()) == []
    assert apply_cleanup(data_dir, RetentionPolicy()) == []


def test_delete_after_upload_removes_only_verified_done(data_dir: Path) -> None:
    ids = _one_of_each(data_dir)
    removed = apply_cleanup(data_dir, RetentionPolicy(delete_after_upload=True))
    assert removed == [ids["done"]]
    done = session_paths(data_dir, ids["done"])
    assert sorted(p.name for p in done.root.iterdir()) == ["session-meta.json", "upload-state.json"]
    for key, sid in ids.items():
        if key != "done":
            assert session_paths(data_dir, sid).zip.exists(), f"{key} lost its zip"
    by_id = {i.session_id: i for i in list_sessions(data_dir)}
    assert by_id[ids["done"]].upload_status == "done" and not by_id[ids["done"]].has_local_files
    # Running again is a no-op.
    assert apply_cleanup(data_dir, RetentionPolicy(delete_after_upload=True)) == []


def test_retention_limit_keeps_newest_uploaded(data_dir: Path) -> None:
    done_ids = [make_session(data_dir, 1_700_000_000_000 + i * 1000, status="done") for i in range(5)]
    failed = make_session(data_dir, 1_600_000_000_000, status="failed")
    removed = apply_cleanup(data_dir, RetentionPolicy(keep_uploaded=2))
    assert sorted(removed) == sorted(done_ids[:3])
    for sid in [*done_ids[3:], failed]:
        assert session_paths(data_dir, sid).zip.exists()


def test_cleanup_removes_links_never_what_they_point_to(data_dir: Path, tmp_path: Path) -> None:
    from tests.hostile import Victim

    victim = Victim.make(tmp_path / "outside")
    sid = make_session(data_dir, 1_700_000_000_000, status="done")
    root = session_paths(data_dir, sid).root
    (root / "video" / "screen.mp4").unlink()
    (root / "video" / "screen.mp4").symlink_to(victim.file)
    (root / "screenshots").rmdir()
    (root / "screenshots").symlink_to(victim.folder, target_is_directory=True)
    assert apply_cleanup(data_dir, RetentionPolicy(delete_after_upload=True)) == [sid]
    assert sorted(p.name for p in root.iterdir()) == ["session-meta.json", "upload-state.json"]
    victim.assert_unchanged()
