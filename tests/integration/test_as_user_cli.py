"""Where permissions matter, the CLI runs as an ordinary user (CI runs as root, which reads
and writes everything): an unreadable zip, a session folder or data folder that cannot be
written. Each ends with one sentence, exit 1, and no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from tests.factories import make_session
from tests.integration.queue_helpers import REPO_ROOT, cli, cli_env

NOBODY = 65534
T0 = 1_700_000_000_000


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's tmp folder (0700, root's): the ordinary user must reach it.
    base = Path(tempfile.mkdtemp(prefix="sessionrec-as-user-"))
    base.chmod(0o755)
    from app.paths import ensure_data_dir

    yield ensure_data_dir(base / "data")
    shutil.rmtree(base, ignore_errors=True)


def run_as_user(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if os.geteuid() == 0:
        for path in [data_dir, *data_dir.rglob("*")]:
            os.lchown(path, NOBODY, NOBODY)
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run([*prefix, *cli(data_dir, *args)], cwd=REPO_ROOT, env=cli_env(),
                          text=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def one_sentence(result: subprocess.CompletedProcess[str], sentence: str) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"sessionrec: {sentence}", result.stderr


def test_an_unreadable_zip(data_dir: Path, s3_config: Any) -> None:
    s3_config(max_retries=1, backoff_base_sec=0.1, backoff_cap_sec=1.0)
    sid = make_session(data_dir, T0)
    zip_path = session_paths(data_dir, sid).zip
    result = None
    try:
        zip_path.chmod(0o000)
        result = run_as_user(data_dir, "upload", sid, "--wait")
    finally:
        zip_path.chmod(0o600)
    one_sentence(result, f"Session {sid} was not uploaded: The zip file could not be read from "
                         "disk (Permission denied).")


def test_a_session_folder_that_cannot_be_written(data_dir: Path, s3_config: Any) -> None:
    s3_config()
    sid = make_session(data_dir, T0)
    root = session_paths(data_dir, sid).root
    result = None
    try:
        run_as_user(data_dir, "list")  # chowns everything to the user first
        root.chmod(0o500)
        result = run_as_user(data_dir, "upload", sid)
    finally:
        root.chmod(0o700)
    one_sentence(result, f"Session {sid} could not be queued: Permission denied.")
    assert not (root / "upload-state.json").exists()


def test_a_data_folder_that_cannot_be_written(data_dir: Path, s3_config: Any) -> None:
    s3_config()
    before = (data_dir / "upload-config.json").read_bytes()
    result = None
    try:
        run_as_user(data_dir, "list")
        data_dir.chmod(0o500)
        result = run_as_user(data_dir, "config", "set", "region=eu-west-2")
    finally:
        data_dir.chmod(0o700)
    one_sentence(result, "The settings could not be saved (nothing was changed): Permission denied.")
    assert (data_dir / "upload-config.json").read_bytes() == before
