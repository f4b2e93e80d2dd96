"""Install tests: the Xvfb fixture of the recorder tests (the installed window runs on it)."""

from tests.recorder.conftest import xserver

__all__ = ["xserver"]
