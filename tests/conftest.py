"""Shared test set-up. Qt aborts with a core dump when there is neither a display
nor the offscreen platform, so pick offscreen unless a test starts Xvfb itself."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests must never touch the developer's real data folder.
os.environ.pop("SESSIONREC_DATA_DIR", None)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    from app.paths import ensure_data_dir

    return ensure_data_dir(tmp_path / "data")


# S3 server, bucket, config and fault-proxy fixtures (tests/s3support/fixtures.py).
pytest_plugins = ["tests.s3support.fixtures", "tests.s3support.backend_fixtures"]


PYNPUT_THREADS = "sessionrec-pynput"  # app.pynput_quiet.THREAD_PREFIX (not imported: keeps Qt out)
THREAD_GRACE_S = 2.0  # a thread told to stop may take a moment to return


@pytest.fixture(autouse=True)
def _no_thread_left_running() -> Iterator[None]:
    """Fails a test that leaves a thread it started running (after a short grace join), naming
    it: a leftover queue or worker thread would act on the next test's files. Threads Qt starts
    (QThread) are not visible here, only Python ones."""
    before = set(threading.enumerate())
    yield
    started = [t for t in threading.enumerate()
               if t not in before and not isinstance(t, threading._DummyThread)]
    deadline = time.monotonic() + THREAD_GRACE_S
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    # pynput's listeners end only at the next input event after stop() (a known limit).
    left = sorted(t.name for t in started if t.is_alive() and not t.name.startswith(PYNPUT_THREADS))
    assert not left, f"threads this test started are still running: {', '.join(left)}"
