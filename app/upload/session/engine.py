"""Upload one session's zip to S3: resumable, verified, cancellable (DESIGN §4-§6).

Shape of one call to `upload_session`:
1. open the zip once through app/session_files.py (a regular file in a real session folder),
   check its size against session-meta.json and read its central directory (zip_verify.py);
   pick the key and part size; below one part -> a single PutObject, hashed before it is sent;
2. multipart: reuse the upload recorded in upload-state.json if the zip is unchanged
   (ListParts reconciles what S3 holds), else abort it and create a new one, and persist
   the new uploadId before any part is sent;
3. send the missing parts from a bounded pool (`concurrency` workers), each part read as a
   slice of the file; each finished part is recorded (throttled) and only then reported.
   Unless this file's SHA-256 was already confirmed, one sequential pass hashes it meanwhile;
4. complete only once the SHA-256 matched session-meta.json and the file did not change,
   then verify with HeadObject (size, checksum, ETag, metadata).
A session folder that disappears mid-upload ends the call within a second: the multipart
upload is aborted and SESSION_REMOVED raised.

The engine never changes `status`, `retry_count` or `last_error`: that is the queue's job.
A transient error in one part is retried inside this call at most PART_ATTEMPTS times;
everything else is raised as `UploadError` for the queue to back off and retry.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import session_files
from app.models import MultipartState, UploadedPart, UploadState
from app.sessions import ZIP_FILE, InvalidSessionId, SessionPaths, load_meta, session_paths
from app.upload.config import UploadConfig, object_key, part_size_for, workers_for
from app.upload.s3.credentials import make_s3_client
from app.upload.s3.errors import classify, disk_read_error, error_code
from app.upload.s3.object_options import head_mismatches, needs_head, object_args
from app.upload.session import uploaded_ledger
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind, UploadCancelled, UploadError
from app.upload.session.object_meta import object_metadata
from app.upload.session.part_reader import (
    BandwidthLimiter,
    ReaderStopped,
    SharedFd,
    SliceDigest,
    SliceReader,
    composite_checksum,
    composite_etag,
    digest_slice,
)
from app.upload.session.progress import Progress, ProgressMeter
from app.upload.session.state_store import UploadStateStore
from app.upload.session.zip_verify import (
    SequentialDigests,
    check_central_directory,
    damaged,
    expected_sha256,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/zip"
# One part gets this many tries inside one upload call (transient errors only); the queue
# retries the whole upload with backoff after that.
PART_ATTEMPTS = 3
PART_RETRY_DELAYS = (0.5, 1.0)
# Parts are persisted at most this often (plus at the end); progress follows the disk.
RECORD_INTERVAL_SEC = 0.25
# The first parts start one measured round trip apart, at most this far (see run_jobs).
MAX_STAGGER_SEC = 0.5
# How often a running upload checks that its session folder still exists.
FOLDER_CHECK_SEC = 0.5
# Before aborting an upload whose parts were stopped, how long they may take to let go.
ABORT_DRAIN_SEC = 1.0
_MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})(?:-(\d+))?"?$')


@dataclass(frozen=True)
class ZipFile:
    """The zip of one upload: one descriptor, read by every pass, and what it looked like."""

    root: Path
    file: SharedFd
    size: int
    mtime_ns: int
    ctime_ns: int
    expected_sha256: str

    def changed(self) -> bool:
        """Whether the open file was written to since it was opened (its inode, not the path)."""
        try:
            with self.file.use() as fd:
                info = os.fstat(fd)
        except (OSError, ReaderStopped):
            return True
        return (info.st_size, info.st_mtime_ns, info.st_ctime_ns) != \
            (self.size, self.mtime_ns, self.ctime_ns)


@dataclass(frozen=True)
class _Slice:
    number: int
    offset: int
    length: int


class _NoSuchUpload(Exception):
    pass


class _FolderRemoved(Exception):
    """The session folder disappeared; the caller aborts and raises SESSION_REMOVED."""


def folder_gone(root: Path) -> bool:
    """The session folder no longer exists (a link put in its place is refused, not "gone")."""
    try:
        os.lstat(root)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _zip_missing() -> UploadError:
    return UploadError(ErrorKind.ZIP_MISSING,
                       "The session's zip file is missing, so there is nothing to upload.",
                       "FileNotFound")


def _open_zip(paths: SessionPaths) -> ZipFile:
    """Open and check the zip before anything is sent: a regular file reached without links,
    the size recorded at export, a readable central directory."""
    try:
        session_files.check_session_root(paths.root)
        fd = session_files.open_fd(paths.root, ZIP_FILE)
    except FileNotFoundError as exc:
        if folder_gone(paths.root):
            raise _FolderRemoved from exc
        raise _zip_missing() from exc
    except session_files.UnsafeFile as exc:
        raise UploadError(ErrorKind.DAMAGED, f"{str(exc).rstrip('.')}, so it is not uploaded.",
                          "unsafe file") from exc
    except OSError as exc:
        raise disk_read_error(exc) from exc
    try:
        info = os.fstat(fd)
        expected = expected_sha256(paths, info.st_size)
        check_central_directory(fd, info.st_size, paths.session_id)
    except BaseException:
        os.close(fd)
        raise
    return ZipFile(paths.root, SharedFd(fd), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                   expected)


def _slices(size: int, part_size: int) -> list[_Slice]:
    count = max(1, -(-size // part_size))
    return [_Slice(i + 1, i * part_size, min(part_size, size - i * part_size)) for i in range(count)]


class _PartLedger:
    """Finished parts: persisted (throttled) first, reported after, never the other way.

    After `close()` nothing more is written, so a worker finishing late (after cancel) can
    never write parts back into a state the caller has since changed.
    """

    def __init__(self, store: UploadStateStore, session_id: str, multipart: MultipartState,
                 meter: ProgressMeter, on_progress: Callable[[Progress], None]) -> None:
        self.store = store
        self.session_id = session_id
        self.multipart = multipart
        self.parts = {p.part_number: p for p in multipart.parts}
        self.meter = meter
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self._last_flush = 0.0

    def add(self, part: UploadedPart, last: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self.parts[part.part_number] = part
            self._dirty = True
            if last or time.monotonic() - self._last_flush >= RECORD_INTERVAL_SEC:
                self._flush()

    def flush_if_due(self) -> None:
        with self._lock:
            if self._dirty and not self._closed and \
                    time.monotonic() - self._last_flush >= RECORD_INTERVAL_SEC:
                self._flush()

    def close(self) -> None:
        with self._lock:
            if self._dirty and not self._closed:
                try:
                    self._flush()
                except Exception:  # a failing disk must not hide the original error
                    log.exception("recording finished parts failed")
            self._closed = True

    def confirmed_bytes(self) -> int:
        return sum(p.size or 0 for p in self.parts.values())

    def mark_verified(self) -> None:
        """Record that this file's SHA-256 matched, so a resume need not hash it again."""
        with self._lock:
            if self._closed or self.multipart.zip_verified:
                return
            self.multipart = dataclasses.replace(self.multipart, zip_verified=True)
            self._flush()

    def _flush(self) -> None:
        parts = sorted(self.parts.values(), key=lambda p: p.part_number)
        self.multipart = dataclasses.replace(self.multipart, parts=parts)
        confirmed = self.confirmed_bytes()
        self.store.update(self.session_id, multipart=self.multipart, bytes_uploaded=confirmed)
        self._dirty = False
        self._last_flush = time.monotonic()
        # Inside the lock so two workers can never report out of order.
        self.on_progress(self.meter.set_confirmed(confirmed))


class _Upload:
    """One call of upload_session: the client, the file and the events shared by workers."""

    def __init__(self, data_dir: Path, session_id: str, config: UploadConfig,
                 store: UploadStateStore, on_progress: Callable[[Progress], None],
                 cancel: threading.Event) -> None:
        self.data_dir = data_dir
        self.session_id = session_id
        self.config = config
        self.store = store
        self.on_progress = on_progress
        self.cancel = cancel
        # Set when any part fails for good: the other parts stop at their next read.
        self.stop = threading.Event()
        self.algorithm: str | None = None if config.checksum_when_required else config.checksum_algorithm
        self.limiter = (BandwidthLimiter(config.max_bandwidth_bytes_per_sec)
                        if config.max_bandwidth_bytes_per_sec else None)
        self.client: Any = None
        self.bucket = config.bucket
        # The last request's round trip (CreateMultipartUpload or ListParts): how far apart
        # the first parts start.
        self.round_trip = 0.0
        # `Expect: 100-continue` costs every part a round trip before its first byte. It lets
        # the server refuse a body it would not take (wrong key, no bucket) before it is
        # sent; once this call created or listed its multipart upload the server has said
        # yes to these credentials and this upload, so parts go without it.
        self.expect_continue = True
        self.root = session_paths(data_dir, session_id).root
        self._next_folder_check = 0.0
        # The multipart upload this call is sending, so a removed folder can still abort it.
        self.current: tuple[str, str] | None = None
        self._futures: list[cf.Future[None]] = []

    # ---- helpers -----------------------------------------------------------------------

    def call(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ReaderStopped:
            raise
        except Exception as exc:
            if _is_reader_stop(exc):
                raise ReaderStopped from exc
            if error_code(exc) == "NoSuchUpload":
                raise _NoSuchUpload from exc
            if _is_local_read_error(exc):
                raise disk_read_error(exc) from exc  # type: ignore[arg-type]
            raise classify(exc, self.bucket, operation) from exc

    def abort(self, multipart: MultipartState, key: str) -> None:
        with contextlib.suppress(_NoSuchUpload):
            self.call("AbortMultipartUpload", self.client.abort_multipart_upload,
                      Bucket=self.bucket, Key=key, UploadId=multipart.upload_id)

    def abort_quietly(self, multipart: MultipartState, key: str) -> None:
        """Abort while another error is being raised: a failing abort must not replace it.

        Parts still in flight are given a moment to stop first (they stop at their next read),
        so the abort does not race them; a transient failure is tried once more."""
        self.drain(ABORT_DRAIN_SEC)
        for attempt in range(2):
            try:
                self.abort(multipart, key)
                return
            except UploadError as exc:
                if exc.permanent or attempt:
                    log.warning("session %s: could not abort upload %s: %s", self.session_id,
                                multipart.upload_id[:16], exc)
                    return
                time.sleep(0.5)

    def drain(self, timeout: float) -> None:
        """Wait up to `timeout` for the part workers of the last run_jobs to finish."""
        if self._futures:
            cf.wait(self._futures, timeout=timeout)

    def make_client(self) -> None:
        self.client = make_s3_client(self.data_dir, self.config)
        # Only the sending pass of a body is paced; botocore's signing pass is not.
        self.client.meta.events.register("before-send.s3.*", _mark_sending)
        self.client.meta.events.register("before-send.s3.UploadPart", self._drop_expect)

    def _drop_expect(self, request: Any, **_: Any) -> None:
        # Not a signed header (botocore never signs Expect), so it can go after signing.
        if not self.expect_continue:
            request.headers.pop("Expect", None)

    def timed(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """`call`, remembering how long the round trip took."""
        started = time.monotonic()
        answer = self.call(operation, fn, **kwargs)
        self.round_trip = time.monotonic() - started
        return answer

    def checksum_args(self, checksum: str | None) -> dict[str, str]:
        if not self.algorithm or checksum is None:
            return {}
        return {"ChecksumAlgorithm": self.algorithm, f"Checksum{self.algorithm}": checksum}

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
            raise _FolderRemoved

    def abort_current(self) -> None:
        if self.current is None:
            return
        key, upload_id = self.current
        self.drain(0.5)  # the 2 s promise: detection <= 0.5 s, this, then one request
        try:
            with contextlib.suppress(_NoSuchUpload):
                self.call("AbortMultipartUpload", self.client.abort_multipart_upload,
                          Bucket=self.bucket, Key=key, UploadId=upload_id)
            log.info("session %s: its folder was removed; aborted upload %s", self.session_id,
                     upload_id[:16])
        except UploadError as exc:
            log.warning("session %s: could not abort the unfinished upload: %s", self.session_id, exc)


class _MultipartUpload(_Upload):
    zip: ZipFile
    key: str
    ledger: _PartLedger | None = None
    # The SHA-256 pass, while this file's hash is not confirmed yet.
    digests: SequentialDigests | None = None

    def run(self, zip_file: ZipFile, key: str, state: UploadState | None) -> UploadState:
        self.zip, self.key = zip_file, key
        multipart = self.resume(state.multipart if state else None)
        if multipart is None:
            multipart = self.create()
        self.expect_continue = False  # the server just accepted this upload (see __init__)
        self.current = (key, multipart.upload_id)
        slices = _slices(zip_file.size, multipart.part_size)
        meter = ProgressMeter(zip_file.size)
        self.ledger = _PartLedger(self.store, self.session_id, multipart, meter, self.on_progress)
        confirmed = self.ledger.confirmed_bytes()
        self.on_progress(meter.set_confirmed(confirmed))
        missing = [s for s in slices if s.number not in self.ledger.parts]
        log.info("session %s: uploading %d of %d parts (%d bytes already on the server)%s",
                 self.session_id, len(missing), len(slices), confirmed,
                 "" if multipart.zip_verified else "; checking its SHA-256 meanwhile")
        verify_stop = threading.Event()
        if not multipart.zip_verified:
            self.digests = SequentialDigests(
                zip_file.file, zip_file.size, multipart.part_size, self.algorithm,
                self.algorithm is None, zip_file.expected_sha256, self.cancel, verify_stop).start()
        try:
            self.run_jobs([self._part_job(s) for s in missing])
            self.confirm_zip()
        except _NoSuchUpload:
            # Aborted elsewhere or expired mid-upload: forget it; the next attempt starts over.
            self.ledger.close()
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.UNKNOWN,
                              "The server dropped the unfinished upload; it will start again.",
                              "NoSuchUpload") from None
        except UploadError as error:
            if error.kind == ErrorKind.DAMAGED:
                # Never completed: abort, so no object is written and no part stays billed.
                self.ledger.close()
                self.abort_quietly(multipart, key)
                self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
                log.warning("session %s: %s", self.session_id, error.sentence)
            raise
        finally:
            verify_stop.set()
            self.ledger.close()
        if zip_file.changed():
            self.abort_quietly(multipart, key)
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.INTEGRITY,
                              "The zip changed while it was being uploaded; it will be uploaded again.",
                              "zip changed")
        parts = [self.ledger.parts[s.number] for s in slices]
        return self.verify(parts, self.complete(multipart, parts))

    def tick(self) -> None:
        super().tick()
        if self.digests is not None:
            matched = self.digests.result()
            if matched is False:
                raise self.sha_mismatch()
            if matched and self.ledger is not None:
                self.ledger.mark_verified()
        if self.ledger is not None:
            self.ledger.flush_if_due()

    def confirm_zip(self) -> None:
        """Wait (cancel-aware) until the SHA-256 pass is done; damaged if it did not match."""
        if self.digests is None:
            return
        try:
            matched = self.digests.wait(self.tick)
        except ReaderStopped:
            if self.cancel.is_set():
                raise UploadCancelled from None
            raise
        if not matched:
            raise self.sha_mismatch()
        if self.ledger is not None:
            self.ledger.mark_verified()

    def sha_mismatch(self) -> UploadError:
        return damaged(self.session_id, "does not have the SHA-256 recorded when it was exported "
                                        "(it was changed or damaged)")

    # ---- the multipart upload record ------------------------------------------------------

    def resume(self, multipart: MultipartState | None) -> MultipartState | None:
        if multipart is None:
            return None
        if (multipart.file_size, multipart.file_mtime_ns) != (self.zip.size, self.zip.mtime_ns):
            log.info("session %s: zip changed since the upload began; starting over", self.session_id)
            self.abort(multipart, self.key)
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            return None
        if multipart.file_ctime_ns != self.zip.ctime_ns:
            # Same size and mtime, but the inode was touched since the hash was confirmed
            # (or it never was): keep the parts, check the SHA-256 again before completing.
            multipart = dataclasses.replace(multipart, zip_verified=False,
                                            file_ctime_ns=self.zip.ctime_ns)
        try:
            held = self.list_parts(multipart.upload_id)
        except _NoSuchUpload:
            log.info("session %s: the server no longer has upload %s; starting over",
                     self.session_id, multipart.upload_id[:16])
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            return None
        kept = self.reconcile(multipart, held)
        multipart = dataclasses.replace(multipart, parts=kept)
        self.store.update(self.session_id, multipart=multipart,
                          bytes_uploaded=sum(p.size or 0 for p in kept))
        return multipart

    def list_parts(self, upload_id: str) -> dict[int, dict[str, Any]]:
        held: dict[int, dict[str, Any]] = {}
        marker = 0
        while True:
            page = self.timed("ListParts", self.client.list_parts, Bucket=self.bucket, Key=self.key,
                             UploadId=upload_id, MaxParts=1000, PartNumberMarker=marker)
            for part in page.get("Parts", []):
                held[int(part["PartNumber"])] = part
            if not page.get("IsTruncated"):
                return held
            marker = int(page["NextPartNumberMarker"])

    def reconcile(self, multipart: MultipartState, held: dict[int, dict[str, Any]]) -> list[UploadedPart]:
        """Parts S3 holds that match the file; everything else will be sent (again)."""
        recorded = {p.part_number: p for p in multipart.parts}
        slices = {s.number: s for s in _slices(self.zip.size, multipart.part_size)}
        kept: list[UploadedPart] = []
        for number, part in sorted(held.items()):
            piece = slices.get(number)
            if piece is None or int(part.get("Size", -1)) != piece.length:
                continue
            etag = str(part["ETag"])
            mine = recorded.get(number)
            if mine is not None and mine.etag == etag and mine.checksum is not None:
                kept.append(mine)
                continue
            # Sent but not recorded (a crash between S3's answer and our write), or recorded
            # without a checksum: keep it only if its ETag is the MD5 of our slice.
            digest = self.digest(piece)
            match = _MD5_ETAG.match(etag)
            if match and match.group(2) is None and match.group(1) == digest.md5_hex:
                kept.append(UploadedPart(number, etag, digest.checksum, piece.length))
        return kept

    def digest(self, piece: _Slice) -> Any:
        try:
            with self.zip.file.use() as fd:
                return digest_slice(fd, piece.offset, piece.length, self.algorithm,
                                    self.cancel, self.stop, with_md5=True)
        except ReaderStopped:
            raise UploadCancelled from None
        except OSError as exc:
            raise disk_read_error(exc) from exc

    def create(self) -> MultipartState:
        # The hash the recorder wrote: the upload is completed only if the file has it.
        args: dict[str, Any] = {
            "Bucket": self.bucket, "Key": self.key, "ContentType": CONTENT_TYPE,
            "Metadata": _metadata(self.data_dir, self.session_id, self.zip.expected_sha256),
            **object_args(self.config),
        }
        if self.algorithm:
            args["ChecksumAlgorithm"] = self.algorithm
        answer = self.timed("CreateMultipartUpload", self.client.create_multipart_upload, **args)
        multipart = MultipartState(
            upload_id=answer["UploadId"], part_size=part_size_for(self.config, self.zip.size),
            file_size=self.zip.size, file_mtime_ns=self.zip.mtime_ns, parts=[],
            file_ctime_ns=self.zip.ctime_ns,
        )
        # Persisted before any part is sent, so a crash from here on can resume or abort it.
        self.store.update(self.session_id, multipart=multipart, bytes_uploaded=0,
                          total_bytes=self.zip.size, s3_key=self.key)
        return multipart

    # ---- parts ------------------------------------------------------------------------

    def _part_job(self, piece: _Slice) -> Callable[[], None]:
        def job() -> None:
            self.send_part(piece)
        return job

    def send_part(self, piece: _Slice) -> None:
        with self.zip.file.use() as fd:
            self._send_part(fd, piece)

    def _send_part(self, fd: int, piece: _Slice) -> None:
        assert self.ledger is not None
        digest: SliceDigest
        if self.digests is not None:
            digest = self.digests.part(piece.number)  # the SHA-256 pass computed it already
        else:
            digest = digest_slice(fd, piece.offset, piece.length, self.algorithm,
                                  self.cancel, self.stop, with_md5=self.algorithm is None)
        for attempt in range(PART_ATTEMPTS):
            try:
                with SliceReader(fd, piece.offset, piece.length, self.cancel, self.stop,
                                 self.limiter) as body:
                    answer = self.call(
                        "UploadPart", self.client.upload_part, Bucket=self.bucket, Key=self.key,
                        UploadId=self.ledger.multipart.upload_id, PartNumber=piece.number,
                        Body=body, ContentLength=piece.length, **self.checksum_args(digest.checksum),
                    )
                etag = str(answer["ETag"])
                match = _MD5_ETAG.match(etag)
                if digest.md5_hex and match and match.group(2) is None and \
                        match.group(1) != digest.md5_hex:
                    raise UploadError(ErrorKind.INTEGRITY,
                                      "Data arrived damaged at the server; it will be sent again.",
                                      f"part {piece.number} ETag mismatch")
                self.ledger.add(UploadedPart(piece.number, etag, digest.checksum, piece.length),
                                last=len(self.ledger.parts) + 1 >= len(_slices(
                                    self.zip.size, self.ledger.multipart.part_size)))
                return
            except UploadError as error:
                if error.permanent or attempt + 1 >= PART_ATTEMPTS:
                    raise
                log.info("part %d: %s (try %d of %d)", piece.number, error.kind.value, attempt + 1,
                         PART_ATTEMPTS)
                if self.cancel.wait(PART_RETRY_DELAYS[min(attempt, len(PART_RETRY_DELAYS) - 1)]):
                    raise ReaderStopped from None
                if self.stop.is_set():
                    raise ReaderStopped from None

    def complete(self, multipart: MultipartState, parts: list[UploadedPart]) -> dict[str, Any]:
        if self.cancel.is_set():
            raise UploadCancelled
        entries = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.part_number, "ETag": part.etag}
            if self.algorithm and part.checksum:
                entry[f"Checksum{self.algorithm}"] = part.checksum
            entries.append(entry)
        try:
            answer: dict[str, Any] = self.call(
                "CompleteMultipartUpload", self.client.complete_multipart_upload,
                Bucket=self.bucket, Key=self.key, UploadId=multipart.upload_id,
                MultipartUpload={"Parts": entries})
            return answer
        except _NoSuchUpload:
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.UNKNOWN,
                              "The server dropped the unfinished upload; it will start again.",
                              "NoSuchUpload") from None

    def verify(self, parts: list[UploadedPart], answer: dict[str, Any]) -> UploadState:
        raws = [part_raw(p.checksum) for p in parts] if self.algorithm else []
        expected_checksum = (composite_checksum(self.algorithm, [r for r in raws if r])
                             if self.algorithm and all(raws) else None)
        md5s = []
        for part in parts:
            match = _MD5_ETAG.match(part.etag)
            md5s.append(match.group(1) if match and match.group(2) is None else None)
        expected_etag = composite_etag([m for m in md5s if m]) if all(md5s) else None
        # Without checksums every part's ETag was checked against the MD5 of our slice, so
        # the composite ETag covers our bytes; with them, the composite checksum does.
        proof = _answer_proves(answer, self.algorithm, expected_checksum,
                               expected_etag if self.algorithm is None else None, len(parts))
        return _verify_object(self, expected_checksum, expected_etag, multipart_parts=len(parts),
                              proven=proof)


def part_raw(checksum: str | None) -> bytes | None:
    import base64

    return base64.b64decode(checksum) if checksum else None


def _metadata(data_dir: Path, session_id: str, sha256: str) -> dict[str, str]:
    """The object's metadata (object_meta.py) from the session's meta as it is now."""
    meta = load_meta(session_paths(data_dir, session_id)).value
    return object_metadata(session_id, sha256, meta)


def _is_reader_stop(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ReaderStopped):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _is_local_read_error(exc: BaseException) -> bool:
    """An OSError from reading the zip, as opposed to a network error botocore wraps."""
    import botocore.exceptions

    return (isinstance(exc, OSError)
            and not isinstance(exc, botocore.exceptions.BotoCoreError | ConnectionError | TimeoutError))


def _mark_sending(request: Any, **_: Any) -> None:
    body = getattr(request, "body", None)
    if isinstance(body, SliceReader):
        body.sending = True


def _answer_proves(answer: dict[str, Any], algorithm: str | None, expected_checksum: str | None,
                   expected_etag: str | None, parts: int | None) -> str | None:
    """What in the write's own answer (PutObject, CompleteMultipartUpload) shows the object
    is our bytes, or None: then HeadObject checks the stored object.

    The server computed it from what it stored: the checksum of our checksum algorithm
    (S3 returns it; some servers, moto among them, do not), or an MD5 ETag where we know the
    MD5 of every byte we sent. The metadata went in the same request (PutObject) or in the
    CreateMultipartUpload the server accepted; the size follows from the parts it took.
    """
    suffix = None if parts is None else str(parts)
    if algorithm and expected_checksum:
        returned = str(answer.get(f"Checksum{algorithm}") or "")
        value, _, count = returned.partition("-")
        if value == expected_checksum and count in ("", suffix or ""):
            return "checksum"
    match = _MD5_ETAG.match(str(answer.get("ETag", "")))
    if expected_etag and match:
        found = match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
        if found == expected_etag:
            return "etag"
    return None


def _verify_object(upload: _MultipartUpload | _SingleUpload, expected_checksum: str | None,
                   expected_etag: str | None, multipart_parts: int,
                   proven: str | None = None) -> UploadState:
    """HeadObject: size, checksum (where returned), ETag (where it is an MD5), metadata —
    unless the write's answer already `proven` the object is ours (one round trip less)."""
    if proven and not needs_head(upload.config):
        log.info("session %s: uploaded %s (%d bytes, %d parts), verified by the %s in the "
                 "server's answer", upload.session_id, upload.key, upload.zip.size,
                 multipart_parts, proven)
        return _record_done(upload)
    head = upload.call("HeadObject", upload.client.head_object, Bucket=upload.bucket,
                       Key=upload.key, ChecksumMode="ENABLED")
    problems = []
    if int(head.get("ContentLength", -1)) != upload.zip.size:
        problems.append("size")
    if upload.algorithm and expected_checksum:
        returned = head.get(f"Checksum{upload.algorithm}")
        # S3 appends "-<parts>" to a composite checksum; some servers leave it off.
        if returned and returned.split("-")[0] != expected_checksum:
            problems.append("checksum")
    etag_match = _MD5_ETAG.match(str(head.get("ETag", "")))
    if expected_etag and etag_match:
        found = etag_match.group(1) + (f"-{etag_match.group(2)}" if etag_match.group(2) else "")
        if found != expected_etag:
            problems.append("etag")
    if head.get("Metadata", {}).get("session-id") != upload.session_id:
        problems.append("metadata")
    not_applied = head_mismatches(upload.config, head)
    if not_applied and not problems:
        # Sending it again would store it the same way: say what the bucket did instead.
        upload.store.update(upload.session_id, multipart=None)
        raise UploadError(ErrorKind.CONFIG,
                          "The bucket stored the upload without the object options in the settings ("
                          + "; ".join(not_applied) + "); check that the store supports them.",
                          "verify: " + ", ".join(not_applied))
    if problems:
        # The stored object is wrong: forget the multipart upload so a retry starts over.
        upload.store.update(upload.session_id, multipart=None, bytes_uploaded=0)
        raise UploadError(ErrorKind.INTEGRITY,
                          "The uploaded file did not match the local zip; it will be uploaded again.",
                          "verify: " + ", ".join(problems))
    log.info("session %s: uploaded and verified %s (%d bytes, %d parts)", upload.session_id,
             upload.key, upload.zip.size, multipart_parts)
    return _record_done(upload)


def _record_done(upload: _MultipartUpload | _SingleUpload) -> UploadState:
    state = upload.store.update(upload.session_id, multipart=None, bytes_uploaded=upload.zip.size,
                                total_bytes=upload.zip.size, s3_key=upload.key)
    uploaded_ledger.record(upload.data_dir, uploaded_ledger.Uploaded(
        upload.session_id, upload.key, upload.zip.size, upload.zip.expected_sha256))
    upload.on_progress(ProgressMeter(upload.zip.size, already=upload.zip.size).snapshot())
    return state


def _already_in_bucket(upload: _Upload, zip_file: ZipFile, key: str) -> UploadState | None:
    """The state `done` when the object is already there with this zip's size and SHA-256 (an
    upload whose upload-state.json was lost or damaged afterwards); None to upload.

    Asked only when uploaded.jsonl records an upload of this very zip, so a first upload costs
    no extra request. A 403/404 (no object, or no permission to read it) means "upload it";
    other errors are raised as for any request.
    """
    try:
        head = upload.client.head_object(Bucket=upload.bucket, Key=key)
    except Exception as exc:
        response: Any = getattr(exc, "response", None) or {}
        if response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (400, 403, 404):
            return None  # the upload itself says what is wrong, if anything
        raise classify(exc, upload.bucket, "HeadObject") from exc
    metadata = head.get("Metadata", {})
    if int(head.get("ContentLength", -1)) != zip_file.size or \
            metadata.get("session-id") != upload.session_id or not metadata.get("zip-sha256"):
        return None
    if metadata["zip-sha256"] != zip_file.expected_sha256:
        return None
    log.info("session %s: %s is already in the bucket with the same size and SHA-256; nothing "
             "to send", upload.session_id, key)
    state = upload.store.update(upload.session_id, multipart=None, bytes_uploaded=zip_file.size,
                                total_bytes=zip_file.size, s3_key=key)
    upload.on_progress(ProgressMeter(zip_file.size, already=zip_file.size).snapshot())
    return state


class _SingleUpload(_Upload):
    zip: ZipFile
    key: str

    def run(self, zip_file: ZipFile, key: str, state: UploadState | None) -> UploadState:
        self.zip, self.key = zip_file, key
        if state is not None and state.multipart is not None:
            # An older multipart upload (the zip shrank, or the part size grew): don't bill it.
            self.abort(state.multipart, state.s3_key or key)
        self.store.update(self.session_id, multipart=None, bytes_uploaded=0,
                          total_bytes=zip_file.size, s3_key=key)
        self.on_progress(ProgressMeter(zip_file.size).snapshot())
        metadata = _metadata(self.data_dir, self.session_id, zip_file.expected_sha256)
        result: dict[str, str] = {}

        def job() -> None:
            with zip_file.file.use() as fd:
                whole = hashlib.sha256()
                # MD5 too (a few ms for one part): the answer's ETag then verifies the object.
                digest = digest_slice(fd, 0, zip_file.size, self.algorithm, self.cancel,
                                      self.stop, with_md5=True, also=(whole,))
                # Known before the first byte is sent: a damaged zip never becomes an object.
                if whole.hexdigest() != zip_file.expected_sha256:
                    raise damaged(self.session_id, "does not have the SHA-256 recorded when it "
                                                   "was exported (it was changed or damaged)")
                with SliceReader(fd, 0, zip_file.size, self.cancel, self.stop,
                                 self.limiter) as body:
                    answer = self.call(
                        "PutObject", self.client.put_object, Bucket=self.bucket, Key=key, Body=body,
                        ContentLength=zip_file.size, ContentType=CONTENT_TYPE,
                        Metadata=metadata, **object_args(self.config),
                        **self.checksum_args(digest.checksum),
                    )
            result["checksum"] = digest.checksum or ""
            result["md5"] = digest.md5_hex or ""
            result["proof"] = _answer_proves(answer, None, None, digest.md5_hex, None) or ""
            if self.algorithm and answer.get(f"Checksum{self.algorithm}") not in (None,
                                                                                 digest.checksum):
                result["proof"] = ""  # the server says otherwise: let HeadObject decide

        self.run_jobs([job])
        if zip_file.changed():
            # Written to while it was sent: the object may not be the verified bytes.
            self.call("DeleteObject", self.client.delete_object, Bucket=self.bucket, Key=key)
            raise UploadError(ErrorKind.INTEGRITY,
                              "The zip changed while it was being uploaded; it will be uploaded again.",
                              "zip changed")
        return _verify_object(self, result["checksum"] or None, result["md5"] or None,
                              multipart_parts=1, proven=result["proof"] or None)


def upload_session(
    data_dir: Path, session_id: str, config: UploadConfig, store: UploadStateStore,
    on_progress: Callable[[Progress], None], cancel: threading.Event,
) -> UploadState:
    """Upload sessions/<id>/session.zip; see the module docstring and upload-contract.md."""
    if cancel.is_set():
        raise UploadCancelled
    try:
        paths = session_paths(data_dir, session_id)
    except InvalidSessionId as exc:  # a link in place of the folder: never followed
        raise UploadError(ErrorKind.DAMAGED, str(exc)) from exc
    started: list[_Upload] = []
    try:
        return _upload(data_dir, paths, config, store, on_progress, cancel, started)
    except (UploadCancelled, _NoSuchUpload):
        raise
    except Exception as exc:
        if isinstance(exc, _FolderRemoved) or folder_gone(paths.root):
            if started:
                started[0].abort_current()
            raise UploadError(ErrorKind.SESSION_REMOVED, SESSION_REMOVED_SENTENCE,
                              "folder removed") from None
        if isinstance(exc, ReaderStopped):
            if cancel.is_set():
                raise UploadCancelled from None
            raise
        if isinstance(exc, OSError):
            raise disk_read_error(exc) from exc
        raise


def _upload(data_dir: Path, paths: SessionPaths, config: UploadConfig, store: UploadStateStore,
            on_progress: Callable[[Progress], None], cancel: threading.Event,
            started: list[_Upload]) -> UploadState:
    zip_file = _open_zip(paths)
    try:
        session_id = paths.session_id
        state = store.get(session_id)
        resuming = state is not None and state.multipart is not None and state.s3_key
        key = state.s3_key if resuming and state and state.s3_key else object_key(config, session_id)
        part_size = (state.multipart.part_size if resuming and state and state.multipart
                     else part_size_for(config, zip_file.size))
        single = zip_file.size <= part_size
        upload: _SingleUpload | _MultipartUpload = (
            _SingleUpload if single else _MultipartUpload
        )(data_dir, session_id, config, store, on_progress, cancel)
        upload.make_client()
        started.append(upload)
        # Only for a state that has never named a key (new, or recreated after upload-state.json
        # was lost): after a failed verification the object there is the bad one.
        if not resuming and (state is None or not state.s3_key):
            before = uploaded_ledger.find(data_dir, session_id)
            if before is not None and (before.size, before.zip_sha256) == \
                    (zip_file.size, zip_file.expected_sha256):
                done = _already_in_bucket(upload, zip_file, before.s3_key)
                if done is not None:
                    return done
        return upload.run(zip_file, key, state)
    finally:
        zip_file.file.close()


def abort_session_upload(data_dir: Path, session_id: str, config: UploadConfig,
                         store: UploadStateStore) -> None:
    """Abort the multipart upload recorded for the session (if any) and forget it."""
    state = store.get(session_id)
    if state is None or state.multipart is None:
        if state is not None and state.bytes_uploaded:
            store.update(session_id, bytes_uploaded=0)
        return
    upload = _MultipartUpload(data_dir, session_id, config, store, lambda _p: None,
                              threading.Event())
    upload.make_client()
    upload.abort(state.multipart, state.s3_key or object_key(config, session_id))
    store.update(session_id, multipart=None, bytes_uploaded=0)


def abort_multipart_upload(data_dir: Path, config: UploadConfig, key: str, upload_id: str) -> None:
    """Abort one multipart upload known only by key and id (its session folder is gone)."""
    upload = _MultipartUpload(data_dir, "removed", config, UploadStateStore(data_dir),
                              lambda _p: None, threading.Event())
    upload.make_client()
    upload.abort(MultipartState(upload_id=upload_id, part_size=0, file_size=0, file_mtime_ns=0),
                 key)
