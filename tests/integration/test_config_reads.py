"""One action checks once and one attempt loads upload-config.json once (counted at the opener).

Every read of upload-config.json goes through `session_files.open_regular` (jsonfile.read_json);
the tests count those opens while a session is queued and uploaded to moto's S3 server.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import session_files
from app.commands.context import CommandContext
from app.paths import config_path
from app.upload.queue.core import SerialQueue
from tests.integration.upload_helpers import session_with_zip
from tests.unit.test_queue_core import Recorder, wait_for

MIB = 1024 * 1024


@pytest.fixture
def config_reads(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    opened: list[str] = []
    original = session_files.open_regular
    watched = config_path(data_dir)

    def counting(path: Path, *args: Any, **kwargs: Any) -> int:
        if Path(path) == watched:
            opened.append(threading.current_thread().name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(session_files, "open_regular", counting)
    yield opened


def test_an_upload_from_the_window_reads_the_settings_twice(
        data_dir: Path, s3_config: Any, config_reads: list[str]) -> None:
    # Once for the checks of the click (on the caller's thread), once for the attempt.
    s3_config()
    session_id = session_with_zip(data_dir, MIB)
    events = Recorder()
    core = SerialQueue(data_dir, events)
    worker = threading.Thread(target=core.run, args=(False,), daemon=True)
    worker.start()
    config_reads.clear()
    assert core.enqueue(session_id) is None
    wait_for(lambda: events.status_of(session_id) == "done", timeout=60)
    core.request_shutdown()
    assert core.wait_stopped(10)
    assert len(config_reads) == 2, config_reads


def test_upload_wait_reads_the_settings_once_per_step(
        data_dir: Path, s3_config: Any, config_reads: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    # The command's checks, the queue's restore (its backoff bounds), the one attempt.
    from app.commands import upload

    s3_config()
    session_id = session_with_zip(data_dir, MIB)
    config_reads.clear()
    args = argparse.Namespace(session_ids=[session_id], all_not_uploaded=False, wait=True)
    assert upload.run(args, CommandContext(data_dir)) == 0
    assert len(config_reads) == 3, config_reads
