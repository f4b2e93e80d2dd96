"""The trust rule as an ordinary user sees it. CI runs as root, where a mode-000 file is still
readable and every permission check passes, so these tests run the command line as the user
nobody (setpriv) on a data folder and victims owned by nobody: then a followed link really could
cut the victim, and an unreadable file really is unreadable. As an ordinary user they run as
that user."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import hostile
from tests.hostile import Victim, assert_no_traceback, listed, run_sessionrec

T0 = hostile.T0


@pytest.fixture(scope="module")
def cli_user_works() -> None:
    """Fail (never skip) when the CLI cannot run as the ordinary user at all."""
    with hostile.user_tree() as base:
        result = run_sessionrec(base / "data", "list", as_nobody=True)
        assert result.returncode == 0, (
            "the CLI does not run as an ordinary user (is the venv readable by others?): "
            + result.stderr[-2000:])
        if hostile.is_root():
            owner = os.stat(base / "data" / "sessions").st_uid
            assert owner == hostile.NOBODY, "setpriv did not change the user"


@pytest.fixture
def user_dir(cli_user_works: None) -> Iterator[Path]:
    with hostile.user_tree() as base:
        yield base


def _prepare(base: Path, kind: hostile.Kind, mutation: str) -> tuple[Path, Victim, str, str]:
    from app.paths import ensure_data_dir

    data_dir = ensure_data_dir(base / "data")
    victim = Victim.make(base / "outside")
    healthy = hostile.exported(data_dir, T0).session_id
    bad = hostile.BUILDERS[kind](data_dir, T0 + 60_000)
    hostile.apply(bad, victim, mutation)
    hostile.give_to_cli_user(data_dir)
    if hostile.is_root():
        victim.chown(hostile.NOBODY, hostile.NOBODY)
    return data_dir, victim, healthy, bad.session_id


@pytest.mark.parametrize(("kind", "mutation", "reason"), [
    ("exported", "mode-000:session-meta.json", "session-meta.json cannot be read (Permission denied)"),
    ("exported", "mode-000:upload-state.json", "upload-state.json cannot be read (Permission denied)"),
    ("exported", "mode-000:session.zip", "session.zip cannot be read (permission denied)"),
    ("interrupted", "mode-000:actions.jsonl", "actions.jsonl cannot be read and written"),
    ("interrupted", "mode-000:video/screen.mp4", "video/screen.mp4 cannot be read and written"),
    ("interrupted", "mode-000:.recording.lock", ".recording.lock cannot be read and written"),
    ("ended_unexported", "mode-000:screenshots/click-000000000ms-f000000.png",
     "screenshots/click-000000000ms-f000000.png cannot be read"),
])
def test_unreadable_files_are_listed_as_damaged(user_dir: Path, kind: hostile.Kind, mutation: str,
                                                reason: str) -> None:
    data_dir, victim, healthy, bad = _prepare(user_dir, kind, mutation)
    items = listed(data_dir, as_nobody=True)
    assert set(items) == {healthy, bad} and not items[healthy]["damaged"]
    assert items[bad]["damaged"] and reason in items[bad]["damagedReason"], items[bad]
    plain = run_sessionrec(data_dir, "list", as_nobody=True)
    assert_no_traceback(plain)
    assert plain.returncode == 0
    victim.assert_unchanged()


@pytest.mark.parametrize(("kind", "mutation"), [
    ("interrupted", "symlink:frames.jsonl"),
    ("interrupted", "symlink:actions.jsonl"),
    ("interrupted", "symlink:video/screen.mp4"),
    ("interrupted", "folder-symlink:video"),
    ("interrupted", "videoRef:absolute"),
    ("ended_unexported", "symlink:frames.jsonl"),
    ("exported", "symlink:session.zip"),
    ("interrupted", "deep-line:actions.jsonl"),
])
def test_victims_the_user_could_write_stay_untouched(user_dir: Path, kind: hostile.Kind,
                                                     mutation: str) -> None:
    data_dir, victim, healthy, bad = _prepare(user_dir, kind, mutation)
    for _ in range(2):
        items = listed(data_dir, as_nobody=True)
        assert set(items) == {healthy, bad}
    victim.assert_unchanged()


def test_modes_as_created_by_an_ordinary_user(user_dir: Path) -> None:
    data_dir = user_dir / "data"
    assert run_sessionrec(data_dir, "list", as_nobody=True, umask=0).returncode == 0
    for folder in (data_dir, data_dir / "sessions", data_dir / "logs"):
        assert hostile.file_mode(folder) == 0o700, folder
    assert hostile.file_mode(data_dir / "logs" / "sessionrec.log") == 0o600
    if hostile.is_root():
        assert os.stat(data_dir / "logs" / "sessionrec.log").st_uid == hostile.NOBODY
