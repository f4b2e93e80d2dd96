"""UI tests: the Xvfb fixtures of the recorder tests (a real X server for recording), and one
real recorded session for the viewer tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.paths import ensure_data_dir
from tests.recorder.conftest import XServer, x_display, xserver
from tests.ui.helpers import close_app, open_app
from tests.ui.recorded import Recorded, record

__all__ = ["app_factory", "recorded_session", "x_display", "xserver"]

AppFactory = Callable[..., Any]


@pytest.fixture
def app_factory(qtbot: QtBot) -> Iterator[AppFactory]:
    """`app_factory(data_dir, fps=10, engine=None, start_queue=True)` opens the window with its
    services (tests.ui.helpers.open_app); every window opened is closed and its queue stopped
    at the end of the test, however the test ends."""
    opened: list[Any] = []

    def open_one(data_dir: Path, fps: int = 10, engine: Any = None,
                 start_queue: bool = True) -> Any:
        return open_app(qtbot, data_dir, fps, engine, opened=opened, start_queue=start_queue)

    try:
        yield open_one
    finally:
        for window, shell in reversed(opened):
            close_app(window, shell)


@pytest.fixture(scope="session")
def recorded_session(xserver: XServer, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Recorded once per run; copy it (tests.ui.recorded.copy_session) before changing it."""
    return record(xserver, ensure_data_dir(tmp_path_factory.mktemp("recorded") / "data"))
