"""UI tests: the Xvfb fixtures of the recorder tests (a real X server for recording), and one
real recorded session for the viewer tests."""

from __future__ import annotations

import pytest

from app.paths import ensure_data_dir
from tests.recorder.conftest import XServer, x_display, xserver
from tests.ui.recorded import Recorded, record

__all__ = ["recorded_session", "x_display", "xserver"]


@pytest.fixture(scope="session")
def recorded_session(xserver: XServer, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Recorded once per run; copy it (tests.ui.recorded.copy_session) before changing it."""
    return record(xserver, ensure_data_dir(tmp_path_factory.mktemp("recorded") / "data"))
