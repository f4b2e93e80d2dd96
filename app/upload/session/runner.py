"""`UploadRun`: what one upload call shares between its steps and its part workers.

The transport, the zip, the cancel and stop events, the bandwidth limiter, the bounded pool
the parts run on (`run_jobs`) and the watch on the session folder. `single.py` and
`multipart.py` build on it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.models import MultipartState
from app.sessions import session_paths
from app.upload.config import UploadConfig, workers_for
from app.upload.session.errors import UploadCancelled, UploadError
from app.upload.session.opened_zip import FolderRemoved, OpenedZip, folder_gone
from app.upload.session.part_reader import BandwidthLimiter, ReaderStopped
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore
from app.upload.session.transport import MultipartTransport, UploadGone

log = logging.getLogger(__name__)

# The first parts start one measured round trip apart, at most this far (see run_jobs).
MAX_STAGGER_SEC = 0.5
# How often a running upload checks that its session folder still exists.
FOLDER_CHECK_SEC = 0.5
# Before aborting an upload whose parts were stopped, how long they may take to let go.
ABORT_DRAIN_SEC = 1.0
ABORT_RETRY_PAUSE_SEC = 0.5  # before the one retry of an abort that failed transiently

T = TypeVar("T")


class UploadRun:
    """One call of upload_session: the transport, the file and the events shared by workers."""

    zip: OpenedZip
    key: str

    def __init__(self, data_dir: Path, session_id: str, config: UploadConfig,
                 store: UploadStateStore, on_progress: Callable[[Progress], None],
                 cancel: threading.Event, transport: MultipartTransport) -> None:
        self.data_dir = data_dir
        self.session_id = session_id
        self.config = config
        self.store = store
        self.on_progress = on_progress
        self.cancel = cancel
        self.transport = transport
        # Set when any part fails for good: the other parts stop at their next read.
        self.stop = threading.Event()
        self.algorithm: str | None = transport.checksum_algorithm
        self.limiter = (BandwidthLimiter(config.max_bandwidth_bytes_per_sec)
                        if config.max_bandwidth_bytes_per_sec else None)
        # The last create or list round trip: how far apart the first parts start.
        self.round_trip = 0.0
        self.root = session_paths(data_dir, session_id).root
        self._next_folder_check = 0.0
        # The multipart upload this call is sending, so a removed folder can still abort it.
        self.current: tuple[str, str] | None = None
        self._futures: list[cf.Future[None]] = []

    # ---- requests ------------------------------------------------------------------------

    def timed(self, fn: Callable[[], T]) -> T:
        """`fn()`, remembering how long the round trip took."""
        started = time.monotonic()
        answer = fn()
        self.round_trip = time.monotonic() - started
        return answer

    def abort(self, multipart: MultipartState, key: str) -> None:
        with contextlib.suppress(UploadGone):
            self.transport.abort(key, multipart.upload_id)

    def abort_retrying(self, multipart: MultipartState, key: str) -> None:
        """Abort, trying a transient failure once more: a server still writing a part of the
        upload (one a stopped attempt sent) may fail the abort for a moment."""
        try:
            self.abort(multipart, key)
        except UploadError as exc:
            if exc.permanent:
                raise
            time.sleep(ABORT_RETRY_PAUSE_SEC)
            self.abort(multipart, key)

    def abort_quietly(self, multipart: MultipartState, key: str) -> None:
        """Abort while another error is being raised: a failing abort must not replace it.

        Parts still in flight are given a moment to stop first (they stop at their next read),
        so the abort does not race them."""
        self.drain(ABORT_DRAIN_SEC)
        try:
            self.abort_retrying(multipart, key)
        except UploadError as exc:
            log.warning("session %s: could not abort upload %s: %s", self.session_id,
                        multipart.upload_id[:16], exc)

    def abort_current(self) -> None:
        if self.current is None:
            return
        key, upload_id = self.current
        self.drain(0.5)  # the 2 s promise: detection <= 0.5 s, this, then one request
        try:
            with contextlib.suppress(UploadGone):
                self.transport.abort(key, upload_id)
            log.info("session %s: its folder was removed; aborted upload %s", self.session_id,
                     upload_id[:16])
        except UploadError as exc:
            log.warning("session %s: could not abort the unfinished upload: %s", self.session_id, exc)

    # ---- the part pool --------------------------------------------------------------------

    def drain(self, timeout: float) -> None:
        """Wait up to `timeout` for the part workers of the last run_jobs to finish."""
        if self._futures:
            cf.wait(self._futures, timeout=timeout)

    def run_jobs(self, jobs: list[Callable[[], None]]) -> None:
        """Run jobs on a bounded pool; return when all finished, raise on cancel or failure.

        On cancel this returns within ~0.1 s even if a request is stuck in the network:
        its worker stops at its next read or times out later, and its result is ignored.
        """
        if not jobs:
            return
        workers = workers_for(self.config, len(jobs))
        pool = cf.ThreadPoolExecutor(max_workers=workers,
                                     thread_name_prefix=f"upload-{self.session_id[:24]}")
        # The first parts start one round trip apart. Started together, equal parts sharing
        # a link finish together, and then every worker waits out its round trip at once
        # (the answer, the next request) while the link idles, after every wave of parts
        # and at the end, where the server also gets all of them at once. Staggered, one part
        # is always sending; the first part alone already has the whole link.
        stagger = min(self.round_trip, MAX_STAGGER_SEC)
        futures = [pool.submit(self._after(i * stagger, job) if i < workers and stagger else job)
                   for i, job in enumerate(jobs)]
        self._futures = futures
        try:
            pending = set(futures)
            while pending:
                if self.cancel.is_set():
                    raise UploadCancelled
                done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_EXCEPTION)
                for future in done:
                    exc = future.exception()
                    if exc is not None:
                        if isinstance(exc, ReaderStopped) and self.cancel.is_set():
                            raise UploadCancelled
                        raise exc
                self.tick()
        finally:
            self.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def _after(self, delay: float, job: Callable[[], None]) -> Callable[[], None]:
        def delayed() -> None:
            if self.cancel.wait(delay) or self.stop.is_set():
                raise ReaderStopped
            job()
        return delayed

    def tick(self) -> None:
        """Called by run_jobs about every 0.1 s."""
        self.check_folder()

    def check_folder(self) -> None:
        now = time.monotonic()
        if now < self._next_folder_check:
            return
        self._next_folder_check = now + FOLDER_CHECK_SEC
        if folder_gone(self.root):
            raise FolderRemoved
