"""After the write: is the stored object our bytes? Then record it done (DESIGN §5).

The write's own answer proves it where it carries the server's digest of what it stored
(our composite checksum, or an MD5 ETag we can compute); otherwise, or when the destination
must see more than the answer shows, a head of the object is compared with the zip.
"""

from __future__ import annotations

import logging
import re

from app.models import UploadState
from app.upload.session import uploaded_ledger
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.opened_zip import OpenedZip
from app.upload.session.progress import ProgressMeter
from app.upload.session.runner import UploadRun
from app.upload.session.transport import StoredObject

log = logging.getLogger(__name__)

MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})(?:-(\d+))?"?$')


def plain_md5(etag: str) -> str | None:
    """The MD5 an ETag is, when it is one (not a composite "-N", not opaque)."""
    match = MD5_ETAG.match(etag)
    return match.group(1) if match and match.group(2) is None else None


def _etag_value(etag: str | None) -> str | None:
    match = MD5_ETAG.match(str(etag or ""))
    if not match:
        return None
    return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")


def answer_proves(answer: StoredObject, algorithm: str | None, expected_checksum: str | None,
                  expected_etag: str | None, parts: int | None) -> str | None:
    """What in the write's own answer (a single PUT, a completion) shows the object is our
    bytes, or None: then a head checks the stored object.

    The server computed it from what it stored: the checksum of our checksum algorithm
    (S3 returns it; some servers, moto among them, do not), or an MD5 ETag where we know the
    MD5 of every byte we sent. The metadata went in the same request (PUT) or in the
    create the server accepted; the size follows from the parts it took.
    """
    suffix = None if parts is None else str(parts)
    if algorithm and expected_checksum:
        value, _, count = str(answer.checksum or "").partition("-")
        if value == expected_checksum and count in ("", suffix or ""):
            return "checksum"
    found = _etag_value(answer.etag)
    if expected_etag and found is not None and found == expected_etag:
        return "etag"
    return None


def verify_object(upload: UploadRun, expected_checksum: str | None, expected_etag: str | None,
                  multipart_parts: int, proven: str | None = None) -> UploadState:
    """A head: size, checksum (where returned), ETag (where it is an MD5), metadata — unless
    the write's answer already `proven` the object is ours (one round trip less)."""
    transport = upload.transport
    if proven and not transport.verifies_by_head:
        log.info("session %s: uploaded %s (%d bytes, %d parts), verified by the %s in the "
                 "server's answer", upload.session_id, upload.key, upload.zip.size,
                 multipart_parts, proven)
        return record_done(upload)
    head = transport.head(upload.key)
    if head is None:
        if proven:
            return record_done(upload)
        upload.store.update(upload.session_id, multipart=None)
        raise UploadError(ErrorKind.CONFIG,
                          "The destination did not say what it stored, so the upload cannot be "
                          "verified.", "verify: no digest")
    problems = []
    if head.size != upload.zip.size:
        problems.append("size")
    # S3 appends "-<parts>" to a composite checksum; some servers leave it off.
    if upload.algorithm and expected_checksum and head.checksum and \
            head.checksum.split("-")[0] != expected_checksum:
        problems.append("checksum")
    found = _etag_value(head.etag)
    if expected_etag and found is not None and found != expected_etag:
        problems.append("etag")
    if head.metadata is not None and head.metadata.get("session-id") != upload.session_id:
        problems.append("metadata")
    if head.not_applied and not problems:
        # Sending it again would store it the same way: say what the store did instead.
        upload.store.update(upload.session_id, multipart=None)
        raise UploadError(ErrorKind.CONFIG,
                          "The bucket stored the upload without the object options in the settings ("
                          + "; ".join(head.not_applied) + "); check that the store supports them.",
                          "verify: " + ", ".join(head.not_applied))
    if problems:
        # The stored object is wrong: forget the multipart upload so a retry starts over.
        upload.store.update(upload.session_id, multipart=None, bytes_uploaded=0)
        raise UploadError(ErrorKind.INTEGRITY,
                          "The uploaded file did not match the local zip; it will be uploaded again.",
                          "verify: " + ", ".join(problems))
    log.info("session %s: uploaded and verified %s (%d bytes, %d parts)", upload.session_id,
             upload.key, upload.zip.size, multipart_parts)
    return record_done(upload)


def record_done(upload: UploadRun) -> UploadState:
    state = upload.store.update(upload.session_id, multipart=None, bytes_uploaded=upload.zip.size,
                                total_bytes=upload.zip.size, s3_key=upload.key)
    uploaded_ledger.record(upload.data_dir, uploaded_ledger.Uploaded(
        upload.session_id, upload.key, upload.zip.size, upload.zip.expected_sha256))
    upload.on_progress(ProgressMeter(upload.zip.size, already=upload.zip.size).snapshot())
    return state


def already_stored(upload: UploadRun, zip_file: OpenedZip, key: str) -> UploadState | None:
    """The state `done` when the object is already there with this zip's size and SHA-256 (an
    upload whose upload-state.json was lost or damaged afterwards); None to upload.

    Asked only when uploaded.jsonl records an upload of this very zip, so a first upload costs
    no extra request. No object, or none this destination may read, means "upload it"; other
    errors are raised as for any request.
    """
    found = upload.transport.find(key)
    if found is None or found.metadata is None:
        return None
    metadata = found.metadata
    if found.size != zip_file.size or metadata.get("session-id") != upload.session_id or \
            not metadata.get("zip-sha256"):
        return None
    if metadata["zip-sha256"] != zip_file.expected_sha256:
        return None
    log.info("session %s: %s is already stored with the same size and SHA-256; nothing "
             "to send", upload.session_id, key)
    state = upload.store.update(upload.session_id, multipart=None, bytes_uploaded=zip_file.size,
                                total_bytes=zip_file.size, s3_key=key)
    upload.on_progress(ProgressMeter(zip_file.size, already=zip_file.size).snapshot())
    return state
