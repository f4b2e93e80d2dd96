"""Shared test set-up. Qt aborts with a core dump when there is neither a display
nor the offscreen platform, so pick offscreen unless a test starts Xvfb itself."""

from __future__ import annotations

import os
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
