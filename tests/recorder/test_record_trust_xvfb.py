"""`sessionrec record` next to hostile sessions, and the modes of what it writes: a deeply
nested line in an interrupted session (which used to crash `record` with a RecursionError) and a
symlinked frames.jsonl (which recovery used to truncate through) never stop a recording, and a
new recording is private (0700 folders, 0600 files) whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.sessions import session_paths
from tests import hostile
from tests.hostile import Victim, assert_no_traceback, listed
from tests.recorder.conftest import REPO, XServer

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def test_record_beside_hostile_sessions_and_private_modes(xserver: XServer, data_dir: Path,
                                                           tmp_path: Path) -> None:
    victim = Victim.make(tmp_path / "outside")
    deep = hostile.interrupted(data_dir, hostile.T0)
    hostile.apply(deep, victim, "deep-line:frames.jsonl")
    hostile.apply(deep, victim, "deep-line-first:actions.jsonl")
    linked = hostile.interrupted(data_dir, hostile.T0 + 1000)
    hostile.apply(linked, victim, "symlink:frames.jsonl")

    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), "record", "--duration", "2",
         "--fps", "10", "--screenshot-every", "1"],
        cwd=REPO, env=xserver.env(), capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: os.umask(0))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    session_id = result.stdout.strip().splitlines()[-1]

    items = listed(data_dir)
    assert set(items) == {deep.session_id, linked.session_id, session_id}
    assert items[deep.session_id]["isExported"] and items[deep.session_id]["recovered"]
    assert items[linked.session_id]["damaged"]
    assert items[session_id]["isExported"] and not items[session_id]["damaged"]
    victim.assert_unchanged()

    root = session_paths(data_dir, session_id).root
    seen_files = 0
    for folder, _dirs, files in os.walk(root):
        assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700, folder
        for name in files:
            assert stat.S_IMODE(os.lstat(Path(folder) / name).st_mode) == 0o600, name
            seen_files += 1
    names = {p.name for p in root.iterdir()}
    assert {"session.zip", ".exported", "actions.jsonl", "frames.jsonl", "session-meta.json"} <= names
    assert any((root / "screenshots").iterdir()) and seen_files >= 7
