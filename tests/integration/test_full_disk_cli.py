"""A full disk on the upload side, through the CLI: `config set`, setting a secret, `upload`
and `upload --wait` each end with one sentence and exit 1, print no traceback, and leave no
half-written file (the old settings and state are still there, whole)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_session
from tests.integration.queue_helpers import REPO_ROOT, cli, cli_env, run_cli
from tests.tmpfs import fill, free_bytes, leftover_temp_files, tiny_tmpfs

T0 = 1_700_000_000_000


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path, "4m") as mount_point:
        yield mount_point


@pytest.fixture
def data_dir(mount: Path) -> Path:  # overrides the shared fixture: the data folder is on the tmpfs
    from app.paths import ensure_data_dir

    return ensure_data_dir(mount / "data")


@pytest.fixture
def full(data_dir: Path, mount: Path, s3_config: Any) -> dict[str, Any]:
    s3_config()
    sid = make_session(data_dir, T0)
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    fill(mount)
    assert free_bytes(mount) < 4096
    return {"sid": sid, "before": before}


def _check(data_dir: Path, result: subprocess.CompletedProcess[str], sentence: str,
           before: dict[Path, bytes]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [f"sessionrec: {sentence}"], result.stderr
    assert leftover_temp_files(data_dir) == []
    for path, content in before.items():  # every file as it was: nothing half-written
        if path.name != "sessionrec.log":
            assert path.read_bytes() == content, path


def test_config_set_on_a_full_disk(data_dir: Path, full: dict[str, Any]) -> None:
    result = run_cli(data_dir, "config", "set", "region=eu-west-2", "maxRetries=3", timeout=60)
    _check(data_dir, result, "The disk is full: the settings could not be saved (nothing was "
                             "changed).", full["before"])
    assert json.loads((data_dir / "upload-config.json").read_text())["region"] == "us-east-1"


def test_setting_a_secret_on_a_full_disk(data_dir: Path, full: dict[str, Any]) -> None:
    result = subprocess.run(cli(data_dir, "config", "set", "secretAccessKey"), cwd=REPO_ROOT,
                            env=cli_env(), text=True, capture_output=True, timeout=60,
                            input="a-new-secret-that-does-not-fit\n")
    _check(data_dir, result, "The disk is full: the secret could not be saved.", full["before"])


def test_upload_on_a_full_disk(data_dir: Path, full: dict[str, Any]) -> None:
    sid = full["sid"]
    result = run_cli(data_dir, "upload", sid, timeout=60)
    _check(data_dir, result, f"The disk is full: session {sid} could not be queued.", full["before"])


def test_upload_wait_on_a_full_disk(data_dir: Path, full: dict[str, Any]) -> None:
    sid = full["sid"]
    result = run_cli(data_dir, "upload", sid, "--wait", timeout=60)
    _check(data_dir, result, f"Session {sid} was not uploaded: The upload of session {sid} could "
                             "not be queued: the disk is full.", full["before"])
