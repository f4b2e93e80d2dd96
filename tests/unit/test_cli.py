from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_session

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_list_json_prints_session_list_items(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000, status="failed")
    (data_dir / "sessions" / sid / "upload-state.json").write_text("{}")
    other = make_session(data_dir, 1_700_000_100_000)
    result = _run("--data-dir", str(data_dir), "list", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [i["sessionId"] for i in items] == [other, sid]
    assert items[0]["uploadStatus"] == "not_uploaded" and items[0]["isExported"] is True
    assert items[1]["damaged"] is True and "sessionId is missing" in items[1]["damagedReason"]


def test_list_table_and_env_data_dir(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000, status="done")
    result = _run("list", env={"SESSIONREC_DATA_DIR": str(data_dir)})
    assert result.returncode == 0 and sid in result.stdout and "done" in result.stdout


def test_list_empty(tmp_path: Path) -> None:
    result = _run("--data-dir", str(tmp_path / "fresh"), "list")
    assert result.returncode == 0 and "No sessions yet" in result.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert _run("--data-dir", str(tmp_path), "no-such-command").returncode == 2
    assert _run("--data-dir", str(tmp_path), "record").returncode == 2  # --duration missing


@pytest.mark.parametrize("argv", [["python", "-m", "app", "--version"]])
def test_version(argv: list[str]) -> None:
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.startswith("sessionrec ")


def test_config_test_turns_auto_upload_on_only_when_never_chosen(data_dir: Path, s3_config) -> None:
    from app.upload.config import load_config

    s3_config()
    result = _run("--data-dir", str(data_dir), "config", "test")
    assert result.returncode == 0, result.stderr
    assert "Auto upload is on" in result.stdout
    assert load_config(data_dir).value.auto_upload is True  # type: ignore[union-attr]
    assert _run("--data-dir", str(data_dir), "config", "set", "autoUpload=false").returncode == 0
    again = _run("--data-dir", str(data_dir), "config", "test")
    assert again.returncode == 0 and "Auto upload" not in again.stdout
    assert load_config(data_dir).value.auto_upload is False  # type: ignore[union-attr]


def test_the_per_session_commands_end_without_python_teardown() -> None:
    from app.cli import EXIT_AT_ONCE, _command_of

    assert _command_of(["--data-dir", "/d", "upload", "x", "--wait"]) == "upload"
    assert _command_of(["--data-dir=/d", "queue", "--wait"]) == "queue"
    assert _command_of(["list", "--json"]) == "list"
    assert _command_of([]) is None and _command_of(["--version"]) is None
    assert _command_of(["gui"]) not in EXIT_AT_ONCE  # the window keeps its normal teardown
    assert _command_of(["record", "--duration", "1"]) not in EXIT_AT_ONCE


def test_a_fast_exit_still_delivers_all_output(data_dir: Path) -> None:
    make_session(data_dir, 1_700_000_000_000)
    result = _run("--data-dir", str(data_dir), "list", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1  # written to a pipe, flushed before os._exit
