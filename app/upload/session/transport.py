"""The lower seam: what a destination's wire must offer the shared multipart session.

The session (plan of slices, part ledger, resume by listing parts, verification against the
recorded SHA-256, progress, bandwidth cap, per-part retries, the part reader) is the same for
every destination. A destination only says how to reach its store: botocore against S3
(`app/upload/s3/transport.py`), or presigned URLs handed out by a backend. It does that by
implementing `MultipartTransport`; the session never sees a client, a URL or a signature.

Every call below, on failure, raises
- `UploadGone` when the server no longer has the multipart upload (S3's NoSuchUpload);
- `ReaderStopped` (from `part_reader`, or any exception whose cause/context chain holds one,
  see `stopped_reading`) when the body it was sending stopped: cancel, or another part failed;
- `UploadError(kind, sentence, detail)` for everything else, already classified (DESIGN §5:
  a refused token or key is permanent, a 5xx, a reset or a timeout transient). A local
  `OSError` while reading the body is `disk_read_error(exc)`. No secret, URL signature or SDK
  text goes into the sentence or the detail.
A call is one attempt: the session retries a transient part error itself (PART_ATTEMPTS) and
the queue retries the whole upload with backoff, so a transport must not retry on its own —
except for what is not a failure at all, e.g. a presigned URL that expired is signed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from app.models import UploadedPart
    from app.upload.session.part_reader import SliceReader

CONTENT_TYPE = "application/zip"


class UploadGone(Exception):
    """The server no longer holds this multipart upload (aborted elsewhere, or expired)."""


@dataclass(frozen=True)
class CreatedUpload:
    """A new multipart upload: the key the object will get and the server's upload id.

    The key is the server's answer, not necessarily the one asked for (Uppy Companion picks
    its own); the session records whichever comes back, and the bucket where the server
    names one."""

    key: str
    upload_id: str
    bucket: str | None = None


class HeldPart(NamedTuple):
    """One part the server holds for an unfinished upload."""

    etag: str
    size: int


@dataclass(frozen=True)
class StoredObject:
    """What the server says about an object it stored: a write's answer, or a head.

    Each field is None when this answer does not say (the session then checks what it can
    with what it has; a field it needs and never gets fails the verification).
    - `etag`: as returned, quotes and all (an MD5, or MD5-of-MD5s with "-N", or opaque);
    - `checksum`: the object's checksum in the transport's `checksum_algorithm`, base64,
      maybe with S3's "-N" suffix for a composite;
    - `metadata`: the object's user metadata (`session-id`, `zip-sha256`, ... object_meta.py);
    - `not_applied`: settings the store did not apply to the object (S3's storage class or
      encryption), each a short phrase; the upload then fails as a settings problem;
    - `key`: where a single PUT stored the object, when the server chose another key than
      the one asked for (Uppy Companion prefixes its own).
    """

    etag: str | None = None
    checksum: str | None = None
    size: int | None = None
    metadata: Mapping[str, str] | None = None
    not_applied: tuple[str, ...] = field(default=())
    key: str | None = None


class MultipartTransport(Protocol):
    """One upload's wire to the store; made per upload call, used from several threads.

    `upload_part` is called concurrently from the part workers (at most `concurrency` at
    once); every other call comes from the upload's own thread.
    """

    @property
    def checksum_algorithm(self) -> str | None:
        """The checksum each part and single PUT carries ("CRC32", "SHA1", "SHA256"), or None
        for none: the session then computes each part's MD5 and checks it against the ETag."""
        ...

    @property
    def verifies_by_head(self) -> bool:
        """True when a head must be asked even if the write's answer proves the bytes (S3:
        a storage class or encryption is configured and only HeadObject shows it)."""
        ...

    def create(self, key: str, metadata: Mapping[str, str]) -> CreatedUpload:
        """Start a multipart upload of an `application/zip` object at (or near) `key`, with
        `metadata` as its user metadata where the store keeps any. Returns the server's key
        and upload id, which the session persists before the first part is sent."""
        ...

    def upload_part(self, key: str, upload_id: str, number: int, body: SliceReader, length: int,
                    checksum: str | None) -> str:
        """Send part `number` (1-based): exactly `length` bytes read from `body`.

        `checksum` (base64, in `checksum_algorithm`) goes with it when not None. Returns the
        part's ETag exactly as the server gave it (quotes included): it is what `complete`
        gets back, and when it is a plain MD5 the session compares it with its own. Set
        `body.sending = True` right before the pass that sends the bytes (a client that reads
        a body twice, once to sign it, must only have the sending pass paced)."""
        ...

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        """Every part the server holds for this upload, all pages: {partNumber: (etag, size)},
        the ETag as `upload_part` returned it."""
        ...

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> StoredObject:
        """Assemble the object from `parts` (ascending part numbers, each with the ETag and,
        where one was sent, the checksum recorded for it). Returns what the answer says about
        the object; its ETag (MD5-of-MD5s) or composite checksum is what proves it is ours."""
        ...

    def abort(self, key: str, upload_id: str) -> None:
        """Drop the unfinished upload and every part of it (nothing left billed). Raises
        `UploadGone` if there is nothing to drop; the session treats that as done."""
        ...

    def put_object(self, key: str, body: SliceReader, length: int, metadata: Mapping[str, str],
                   checksum: str | None, md5_hex: str) -> StoredObject:
        """Store a small zip in one `application/zip` PUT of `length` bytes from `body` (set
        `body.sending` as for a part). `checksum` as for a part; `md5_hex` is the body's MD5,
        for a transport that can send Content-MD5. Returns what the answer says."""
        ...

    def head(self, key: str) -> StoredObject | None:
        """What the store holds at `key` now; None when this transport cannot look (then the
        write's own answer must prove the object). Raises UploadError when the request fails."""
        ...

    def find(self, key: str) -> StoredObject | None:
        """As `head`, but None also when there is no object at `key` or it may not be read
        (a 400/403/404): asked before a first upload, "upload it" is the safe answer."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object at `key` (it may not hold the verified bytes); a transport that
        cannot delete does nothing and the next upload replaces it."""
        ...


def stopped_reading(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, the body's ReaderStopped (clients wrap it)."""
    from app.upload.session.part_reader import ReaderStopped

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ReaderStopped):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
