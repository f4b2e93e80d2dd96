"""pynput listeners that end quietly when the display goes away after they were stopped.

Shared by the recorder's input listeners and the window's global hotkey, so neither imports
the other (Qt-free; pynput is imported by the callers)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# pynput's listener threads end only at the next input event after stop(), so they may outlive
# whoever stopped them; this prefix names them (the tests' leftover-thread check knows it).
THREAD_PREFIX = "sessionrec-pynput"


def quiet_after_stop(listener_class: type[Any]) -> type[Any]:
    """A pynput listener whose thread ends silently if the display goes away after stop().

    A stopped listener still waits for one more input event; when the X server closes first
    (the app quits, Xvfb ends), Xlib raises ConnectionClosedError in that thread. That is the
    expected end of a stopped listener, not an error worth a traceback.
    """

    class QuietListener(listener_class):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.name = f"{THREAD_PREFIX}-{listener_class.__name__}"

        def _run(self) -> None:
            try:
                super()._run()
            except Exception as exc:
                if self.running:
                    raise
                log.debug("input listener ended after stop: %s", type(exc).__name__)

    return QuietListener
