"""A zip bigger than one part: a resumable multipart upload through any `MultipartTransport`.

Resume or create (the upload id persisted before the first part), the missing parts from
the bounded pool with the SHA-256 pass beside them, complete only once the hash matched and
the file did not change, then verify (verify.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

from app.models import MultipartState, UploadedPart, UploadState
from app.upload.config import part_size_for
from app.upload.session.errors import ErrorKind, UploadCancelled, UploadError, disk_read_error
from app.upload.session.ledger import PartLedger, Slice, slices
from app.upload.session.object_meta import session_metadata
from app.upload.session.opened_zip import OpenedZip
from app.upload.session.part_reader import (
    ReaderStopped,
    SliceDigest,
    SliceReader,
    composite_checksum,
    composite_etag,
    digest_slice,
)
from app.upload.session.progress import ProgressMeter
from app.upload.session.runner import UploadRun
from app.upload.session.transport import HeldPart, StoredObject, UploadGone
from app.upload.session.verify import answer_proves, plain_md5, verify_object
from app.upload.session.zip_verify import SequentialDigests, damaged

log = logging.getLogger(__name__)

# One part gets this many tries inside one upload call (transient errors only); the queue
# retries the whole upload with backoff after that.
PART_ATTEMPTS = 3
PART_RETRY_DELAYS = (0.5, 1.0)
_DROPPED = "The server dropped the unfinished upload; it will start again."


class MultipartUpload(UploadRun):
    ledger: PartLedger | None = None
    # The SHA-256 pass, while this file's hash is not confirmed yet.
    digests: SequentialDigests | None = None

    def run(self, zip_file: OpenedZip, key: str, state: UploadState | None) -> UploadState:
        self.zip, self.key = zip_file, key
        multipart = self.resume(state.multipart if state else None)
        if multipart is None:
            multipart = self.create()
        self.current = (self.key, multipart.upload_id)
        plan = slices(zip_file.size, multipart.part_size)
        meter = ProgressMeter(zip_file.size)
        self.ledger = PartLedger(self.store, self.session_id, multipart, meter, self.on_progress)
        confirmed = self.ledger.confirmed_bytes()
        self.on_progress(meter.set_confirmed(confirmed))
        missing = [s for s in plan if s.number not in self.ledger.parts]
        log.info("session %s: uploading %d of %d parts (%d bytes already on the server)%s",
                 self.session_id, len(missing), len(plan), confirmed,
                 "" if multipart.zip_verified else "; checking its SHA-256 meanwhile")
        verify_stop = threading.Event()
        if not multipart.zip_verified:
            self.digests = SequentialDigests(
                zip_file.file, zip_file.size, multipart.part_size, self.algorithm,
                self.algorithm is None, zip_file.expected_sha256, self.cancel, verify_stop).start()
        try:
            self.run_jobs([self._part_job(s, len(plan)) for s in missing])
            self.confirm_zip()
        except UploadGone:
            # Aborted elsewhere or expired mid-upload: forget it; the next attempt starts over.
            self.ledger.close()
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.UNKNOWN, _DROPPED, "NoSuchUpload") from None
        except UploadError as error:
            if error.kind == ErrorKind.DAMAGED:
                # Never completed: abort, so no object is written and no part stays billed.
                self.ledger.close()
                self.abort_quietly(multipart, self.key)
                self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
                log.warning("session %s: %s", self.session_id, error.sentence)
            raise
        finally:
            verify_stop.set()
            self.ledger.close()
        if zip_file.changed():
            self.abort_quietly(multipart, self.key)
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.INTEGRITY,
                              "The zip changed while it was being uploaded; it will be uploaded again.",
                              "zip changed")
        parts = [self.ledger.parts[s.number] for s in plan]
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
            self.abort_retrying(multipart, self.key)
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            return None
        if multipart.file_ctime_ns != self.zip.ctime_ns:
            # Same size and mtime, but the inode was touched since the hash was confirmed
            # (or it never was): keep the parts, check the SHA-256 again before completing.
            multipart = dataclasses.replace(multipart, zip_verified=False,
                                            file_ctime_ns=self.zip.ctime_ns)
        upload_id = multipart.upload_id
        try:
            held = self.timed(lambda: self.transport.list_parts(self.key, upload_id))
        except UploadGone:
            log.info("session %s: the server no longer has upload %s; starting over",
                     self.session_id, upload_id[:16])
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            return None
        kept = self.reconcile(multipart, held)
        multipart = dataclasses.replace(multipart, parts=kept)
        self.store.update(self.session_id, multipart=multipart,
                          bytes_uploaded=sum(p.size or 0 for p in kept))
        return multipart

    def reconcile(self, multipart: MultipartState, held: dict[int, HeldPart]) -> list[UploadedPart]:
        """Parts the server holds that match the file; everything else will be sent (again)."""
        recorded = {p.part_number: p for p in multipart.parts}
        pieces = {s.number: s for s in slices(self.zip.size, multipart.part_size)}
        kept: list[UploadedPart] = []
        for number, part in sorted(held.items()):
            piece = pieces.get(number)
            if piece is None or part.size != piece.length:
                continue
            mine = recorded.get(number)
            if mine is not None and mine.etag == part.etag and mine.checksum is not None:
                kept.append(mine)
                continue
            # Sent but not recorded (a crash between the server's answer and our write), or
            # recorded without a checksum: keep it only if its ETag is the MD5 of our slice.
            digest = self.digest(piece)
            if plain_md5(part.etag) == digest.md5_hex:
                kept.append(UploadedPart(number, part.etag, digest.checksum, piece.length))
        return kept

    def digest(self, piece: Slice) -> SliceDigest:
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
        metadata = session_metadata(self.data_dir, self.session_id, self.zip.expected_sha256)
        created = self.timed(lambda: self.transport.create(self.key, metadata))
        self.key = created.key
        multipart = MultipartState(
            upload_id=created.upload_id, part_size=part_size_for(self.config, self.zip.size),
            file_size=self.zip.size, file_mtime_ns=self.zip.mtime_ns, parts=[],
            file_ctime_ns=self.zip.ctime_ns, bucket=created.bucket,
        )
        # Persisted before any part is sent, so a crash from here on can resume or abort it.
        self.store.update(self.session_id, multipart=multipart, bytes_uploaded=0,
                          total_bytes=self.zip.size, s3_key=self.key)
        return multipart

    # ---- parts ------------------------------------------------------------------------

    def _part_job(self, piece: Slice, total_parts: int) -> Callable[[], None]:
        def job() -> None:
            with self.zip.file.use() as fd:
                self._send_part(fd, piece, total_parts)
        return job

    def _send_part(self, fd: int, piece: Slice, total_parts: int) -> None:
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
                    etag = self.transport.upload_part(
                        self.key, self.ledger.multipart.upload_id, piece.number, body,
                        piece.length, digest.checksum)
                md5 = plain_md5(etag)
                if digest.md5_hex and md5 is not None and md5 != digest.md5_hex:
                    raise UploadError(ErrorKind.INTEGRITY,
                                      "Data arrived damaged at the server; it will be sent again.",
                                      f"part {piece.number} ETag mismatch")
                self.ledger.add(UploadedPart(piece.number, etag, digest.checksum, piece.length),
                                last=len(self.ledger.parts) + 1 >= total_parts)
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

    def complete(self, multipart: MultipartState, parts: list[UploadedPart]) -> StoredObject:
        if self.cancel.is_set():
            raise UploadCancelled
        try:
            return self.transport.complete(self.key, multipart.upload_id, parts)
        except UploadGone:
            self.store.update(self.session_id, multipart=None, bytes_uploaded=0)
            raise UploadError(ErrorKind.UNKNOWN, _DROPPED, "NoSuchUpload") from None

    def verify(self, parts: list[UploadedPart], answer: StoredObject) -> UploadState:
        raws = [part_raw(p.checksum) for p in parts] if self.algorithm else []
        expected_checksum = (composite_checksum(self.algorithm, [r for r in raws if r])
                             if self.algorithm and all(raws) else None)
        md5s = [plain_md5(part.etag) for part in parts]
        expected_etag = composite_etag([m for m in md5s if m]) if all(md5s) else None
        # Without checksums every part's ETag was checked against the MD5 of our slice, so
        # the composite ETag covers our bytes; with them, the composite checksum does.
        proof = answer_proves(answer, self.algorithm, expected_checksum,
                              expected_etag if self.algorithm is None else None, len(parts))
        return verify_object(self, expected_checksum, expected_etag, multipart_parts=len(parts),
                             proven=proof)


def part_raw(checksum: str | None) -> bytes | None:
    import base64

    return base64.b64decode(checksum) if checksum else None
