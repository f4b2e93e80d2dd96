"""UI tests: the Xvfb fixtures of the recorder tests (a real X server for recording)."""

from tests.recorder.conftest import x_display, xserver

__all__ = ["x_display", "xserver"]
