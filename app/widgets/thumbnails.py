"""Card thumbnails for the session list: loaded (or made once) off the GUI thread, kept in memory.

The card asks for its picture when it is painted, so only the cards on screen ever cause work.
One background thread serves the requests newest first (the cards just scrolled into view),
reading the session's cached `.thumbnail.jpg` or making it (`app.playback.thumbnail`); the JPEG
is decoded into a QImage there too. The GUI thread only turns the small image into a pixmap.
At most `capacity` pixmaps are kept (least recently painted go first); they come back from the
cache file when needed again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from app.models import SessionListItem
from app.paths import sessions_root
from app.playback.thumbnail import thumbnail_for

log = logging.getLogger(__name__)

MAX_WAITING = 64  # requests beyond this are forgotten (oldest first); painting asks again
# Making a picture (decoding a 1080p PNG) waits until the list has been still this long: while
# someone scrolls, that work would compete with painting for the CPU and the GIL.
HOLD_OFF_S = 0.25


class _Relay(QObject):
    done = Signal(str, object)  # sessionId, QImage or None


class ThumbnailCache(QObject):
    ready = Signal(str)  # sessionId: its picture (or the fact that it has none) is known now

    def __init__(self, data_dir: Path, parent: QObject | None = None, capacity: int = 300) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.capacity = capacity
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        # Sessions with no picture, with the state that was true then (retried when it changes).
        self._none: dict[str, tuple[int | None, bool]] = {}
        self._requested: dict[str, tuple[int | None, bool]] = {}
        self._waiting: list[tuple[str, bool]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._thread: threading.Thread | None = None
        self._quiet_after = 0.0  # monotonic time before which nothing new is made
        self.made = 0  # pictures delivered (tests and the bench read it)

    def get(self, item: SessionListItem) -> QPixmap | None:
        """The card's picture if known; otherwise asks for it and returns None for now."""
        key = item.session_id
        if not item.has_local_files:
            # Its files (the cached picture with them) were removed after upload: none in memory either.
            self._pixmaps.pop(key, None)
            return None
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        state = (item.ended_at, item.has_local_files)
        if self._none.get(key) == state or key in self._requested:
            return None
        self._none.pop(key, None)
        # A recording in progress gets no picture yet; its cached one (if any) is still read.
        make = item.ended_at is not None or item.damaged
        self._request(key, make, state)
        return None

    def _request(self, session_id: str, make: bool, state: tuple[int | None, bool]) -> None:
        self._requested[session_id] = state
        with self._cond:
            self._waiting.append((session_id, make))
            if len(self._waiting) > MAX_WAITING:
                dropped, _ = self._waiting.pop(0)
                self._requested.pop(dropped, None)
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sessionrec-thumbnails",
                                            daemon=True)
            self._thread.start()

    def hold_off(self) -> None:
        """The list is moving (scrolling): make no new pictures until it has been still a moment.
        Cached ones are still read (cheap)."""
        self._quiet_after = time.monotonic() + HOLD_OFF_S

    def _wait_until_quiet(self) -> None:
        while not self._stop.is_set() and (wait := self._quiet_after - time.monotonic()) > 0:
            self._stop.wait(wait)

    def _run(self) -> None:
        if hasattr(os, "setpriority"):
            # Linux takes a thread id here: this thread yields the CPU to the window's.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        root = sessions_root(self.data_dir)
        while not self._stop.is_set():
            with self._cond:
                while not self._waiting and not self._stop.is_set():
                    self._cond.wait(0.5)
                if self._stop.is_set():
                    return
                session_id, make = self._waiting.pop()  # newest first: the cards on screen now
            image: QImage | None = None
            try:
                data = thumbnail_for(root / session_id, make=False)
                if data is None and make:
                    self._wait_until_quiet()
                    data = thumbnail_for(root / session_id, make=True)
                if data is not None:
                    loaded = QImage.fromData(data)
                    image = None if loaded.isNull() else loaded
            except Exception:  # one bad session must not stop the pictures of the others
                log.exception("thumbnail of %s failed", session_id)
            try:
                self._relay.done.emit(session_id, image)
            except RuntimeError:  # the window closed meanwhile
                return

    def _done(self, session_id: str, image: QImage | None) -> None:
        state = self._requested.pop(session_id, (None, False))
        if image is None:
            self._none[session_id] = state
        else:
            self._pixmaps[session_id] = QPixmap.fromImage(image)
            self._pixmaps.move_to_end(session_id)
            while len(self._pixmaps) > self.capacity:
                self._pixmaps.popitem(last=False)
            self.made += 1
        self.ready.emit(session_id)

    def drop(self, session_id: str) -> None:
        self._pixmaps.pop(session_id, None)
        self._none.pop(session_id, None)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
