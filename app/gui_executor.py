"""Run a blocking function off the GUI thread and get its result back as a Qt signal.

The result crosses threads through a queued signal on a QObject that lives in
the GUI thread, so the callback always runs on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


# Relays are kept alive here until their task reports back.
_live: set[_Relay] = set()


def run_in_background(
    work: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    name: str = "sessionrec-background",
) -> threading.Thread:
    """Start `work` on a daemon thread; `on_done(result)` / `on_error(exc)` run on the GUI thread."""
    relay = _Relay()
    _live.add(relay)

    def finish(callback: Callable[[Any], None] | None, value: object) -> None:
        _live.discard(relay)
        relay.deleteLater()
        if callback is not None:
            callback(value)

    relay.done.connect(lambda value: finish(on_done, value))
    relay.failed.connect(lambda exc: finish(on_error, exc))

    def target() -> None:
        try:
            result = work()
        except BaseException as exc:  # reported to the GUI, never swallowed
            log.exception("background task %s failed", name)
            relay.failed.emit(exc)
            return
        relay.done.emit(result)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
