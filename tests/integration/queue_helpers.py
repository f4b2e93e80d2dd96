"""Shared by the queue integration tests: a signal watcher that checks invariants on every
signal, and helpers to compare what reached the bucket with the zips on disk."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from app.models import UploadState
from app.sessions import iter_session_paths, load_upload_state, session_paths
from app.upload.config import object_key
from app.upload.queue.status_report import StatusReport
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore

REPO_ROOT = Path(__file__).resolve().parents[2]


def all_states_parse(data_dir: Path) -> dict[str, UploadState]:
    """Read every upload-state.json; any file that does not parse fails the test."""
    states: dict[str, UploadState] = {}
    for paths in iter_session_paths(data_dir):
        loaded = load_upload_state(paths)
        assert loaded.problem is None, f"{paths.session_id}: {loaded.problem}"
        if loaded.value is not None:
            states[paths.session_id] = loaded.value
    return states


class QueueWatch(QObject):
    """Connected to an UploadQueue; records everything, checks invariants on every signal."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.statuses: list[tuple[str, str, float]] = []
        self.failures: list[tuple[str, str]] = []
        self.progress_count: dict[str, int] = {}
        self.uploading: set[str] = set()
        self.max_parallel = 0
        self.states_at_status: list[UploadState] = []
        self.idle_count = 0
        self.wrong_thread = 0

    def connect_to(self, queue: Any) -> QueueWatch:
        queue.statusChanged.connect(self.on_status)
        queue.progress.connect(self.on_progress)
        queue.failed.connect(self.on_failed)
        queue.queueChanged.connect(self.on_queue_changed)
        queue.idle.connect(self.on_idle)
        return self

    def _check_thread(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.wrong_thread += 1

    @Slot(object)
    def on_status(self, report: StatusReport) -> None:
        self._check_thread()
        assert isinstance(report, StatusReport)
        session_id, status = report.session_id, report.status
        self.statuses.append((session_id, status, time.monotonic()))
        if status == "uploading":
            self.uploading.add(session_id)
        else:
            self.uploading.discard(session_id)
        self.max_parallel = max(self.max_parallel, len(self.uploading))
        states = all_states_parse(self.data_dir)
        self.states_at_status.append(states[session_id])

    @Slot(str, object)
    def on_progress(self, session_id: str, progress: Progress) -> None:
        self._check_thread()
        assert isinstance(progress, Progress)
        done, total = progress.bytes_uploaded, progress.total_bytes
        assert isinstance(done, int) and isinstance(total, int) and 0 <= done <= total
        self.progress_count[session_id] = self.progress_count.get(session_id, 0) + 1

    @Slot(str, str)
    def on_failed(self, session_id: str, sentence: str) -> None:
        self._check_thread()
        self.failures.append((session_id, sentence))

    @Slot()
    def on_queue_changed(self) -> None:
        self._check_thread()
        all_states_parse(self.data_dir)

    @Slot()
    def on_idle(self) -> None:
        self.idle_count += 1

    def last(self, session_id: str) -> str | None:
        found = [s for i, s, _ in self.statuses if i == session_id]
        return found[-1] if found else None

    def times(self, session_id: str, status: str) -> list[float]:
        return [t for i, s, t in self.statuses if i == session_id and s == status]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_in_bucket(client: Any, bucket: str, config: Any, data_dir: Path, session_id: str,
                     zip_sha: str | None = None) -> None:
    """The object exists and is byte-identical to the session's zip."""
    body = client.get_object(Bucket=bucket, Key=object_key(config, session_id))["Body"].read()
    expected = zip_sha or sha256_file(session_paths(data_dir, session_id).zip)
    assert hashlib.sha256(body).hexdigest() == expected


def open_multipart_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def maybe_state(data_dir: Path, session_id: str) -> UploadState | None:
    return UploadStateStore(data_dir).get(session_id)


def state(data_dir: Path, session_id: str) -> UploadState:
    found = UploadStateStore(data_dir).get(session_id)
    assert found is not None
    return found


def cli(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args]


def cli_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("SESSIONREC_DATA_DIR", None)
    return env


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(cli(data_dir, *args), cwd=REPO_ROOT, env=cli_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_cli(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(data_dir, *args), cwd=REPO_ROOT, env=cli_env(), text=True,
                          capture_output=True, timeout=timeout)


def poll(predicate: Callable[[], bool], timeout: float = 30.0, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(every)
