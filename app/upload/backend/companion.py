"""`CompanionTransport`: presigned multipart through Uppy Companion's S3 routes.

    POST   /s3/multipart                             {filename, type, metadata} -> {key, uploadId, bucket}
    GET    /s3/multipart/{uploadId}?key=             the parts S3 holds: [{PartNumber, ETag, Size}]
    GET    /s3/multipart/{uploadId}/batch?key=&partNumbers=1,2,...   {presignedUrls: {n: url}}
    GET    /s3/multipart/{uploadId}/{n}?key=         {url, expires}: one part, signed again
    POST   /s3/multipart/{uploadId}/complete?key=    {parts: [{PartNumber, ETag}]} -> {location, key}
    DELETE /s3/multipart/{uploadId}?key=             abort

Companion picks the key (`<uuid>-<filename>`; the session records what comes back) and its
completion answer carries no ETag, and it has no route to look at an object. So before
completing, the parts are listed once more: S3's own ETags and sizes for exactly the parts
being assembled must be the ones the session checked against its MD5s; the object's ETag is
then, by S3's rule, the MD5 of those MD5s with "-N", which `complete` returns for the session
to compare with its own. A small zip is a one-part multipart upload (Companion signs no
single PUT, only POST forms).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from app.upload.backend import errors
from app.upload.backend.http import BackendHttp, SignedUrlExpired
from app.upload.backend.part_urls import PartUrls
from app.upload.backend.settings import BackendSettings
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.part_reader import SliceReader, composite_etag
from app.upload.session.state_bounds import bucket_name_ok
from app.upload.session.transport import (
    CONTENT_TYPE,
    CreatedUpload,
    HeldPart,
    StoredObject,
)
from app.upload.session.verify import plain_md5

if TYPE_CHECKING:
    from app.models import UploadedPart

log = logging.getLogger(__name__)

# A part whose URL keeps coming back expired is signed again at most this often per send.
RESIGN_LIMIT = 3


class CompanionTransport:
    def __init__(self, settings: BackendSettings, http: BackendHttp | None = None) -> None:
        self.settings = settings
        self.http = http or BackendHttp(settings)
        self._urls: dict[str, PartUrls] = {}
        self.bucket: str | None = None
        self.resigned = 0  # URLs signed again after the store said they expired

    @property
    def checksum_algorithm(self) -> str | None:
        # Companion's URLs sign no checksum header: each part is checked by its MD5 ETag.
        return None

    @property
    def verifies_by_head(self) -> bool:
        return False

    # ---- MultipartTransport ----------------------------------------------------------------

    def create(self, key: str, metadata: Mapping[str, str]) -> CreatedUpload:
        answer = self.http.call_json("POST", "/s3/multipart", {
            "filename": key, "type": CONTENT_TYPE, "metadata": dict(metadata)})
        if not isinstance(answer, dict) or not isinstance(answer.get("key"), str) or \
                not isinstance(answer.get("uploadId"), str):
            raise errors.unreadable_answer("/s3/multipart")
        if isinstance(answer.get("bucket"), str) and bucket_name_ok(answer["bucket"]):
            self.bucket = answer["bucket"]
        return CreatedUpload(answer["key"], answer["uploadId"], self.bucket)

    def upload_part(self, key: str, upload_id: str, number: int, body: SliceReader, length: int,
                    checksum: str | None) -> str:
        urls = self._part_urls(key, upload_id)
        url = urls.get(number)
        for attempt in range(RESIGN_LIMIT + 1):
            body.seek(0)
            try:
                answer = self.http.put_signed(url, body, length,
                                              {"Content-Type": "application/octet-stream"})
            except SignedUrlExpired:
                if attempt >= RESIGN_LIMIT:
                    raise errors.signed_urls_keep_expiring() from None
                log.info("part %d: its signed URL expired; signing it again", number)
                self.resigned += 1
                url = urls.expired(number)
                continue
            if not answer.etag:
                raise UploadError(ErrorKind.SERVER, "The storage server did not confirm a part; "
                                                    "it will be sent again.", "no ETag")
            return answer.etag
        raise AssertionError("unreachable")

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        answer = self.http.call_json("GET", f"/s3/multipart/{_q(upload_id)}?key={_q(key)}")
        if not isinstance(answer, list):
            raise errors.unreadable_answer("/s3/multipart/{uploadId}")
        held: dict[int, HeldPart] = {}
        for part in answer:
            try:
                held[int(part["PartNumber"])] = HeldPart(str(part["ETag"]), int(part.get("Size", -1)))
            except (KeyError, TypeError, ValueError):
                raise errors.unreadable_answer("/s3/multipart/{uploadId}") from None
        return held

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> StoredObject:
        held = self.list_parts(key, upload_id)
        mismatched = [p.part_number for p in parts
                      if p.part_number not in held
                      or plain_md5(held[p.part_number].etag) != plain_md5(p.etag)
                      or (p.size is not None and held[p.part_number].size != p.size)]
        if mismatched:
            raise UploadError(ErrorKind.INTEGRITY,
                              "The storage server does not hold the parts that were sent; they "
                              "will be sent again.", f"parts {mismatched[:5]} differ")
        self.http.call_json("POST", f"/s3/multipart/{_q(upload_id)}/complete?key={_q(key)}", {
            "parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]})
        md5s = [plain_md5(held[p.part_number].etag) for p in parts]
        etag = composite_etag([m for m in md5s if m]) if all(md5s) else None
        size = sum(held[p.part_number].size for p in parts)
        return StoredObject(etag=f'"{etag}"' if etag else None, size=size)

    def abort(self, key: str, upload_id: str) -> None:
        self.http.call_json("DELETE", f"/s3/multipart/{_q(upload_id)}?key={_q(key)}")
        self._urls.pop(upload_id, None)

    def put_object(self, key: str, body: SliceReader, length: int, metadata: Mapping[str, str],
                   checksum: str | None, md5_hex: str) -> StoredObject:
        created = self.create(key, metadata)
        done = False
        try:
            etag = self.upload_part(created.key, created.upload_id, 1, body, length, None)
            if md5_hex and plain_md5(etag) != md5_hex:
                raise UploadError(ErrorKind.INTEGRITY,
                                  "Data arrived damaged at the server; it will be sent again.",
                                  "ETag mismatch")
            from app.models import UploadedPart

            stored = self.complete(created.key, created.upload_id,
                                   [UploadedPart(1, etag, None, length)])
            done = True
        finally:
            if not done:
                with contextlib.suppress(Exception):
                    self.abort(created.key, created.upload_id)
        # One part: the object's bytes are that part's, whose MD5 the store computed.
        return StoredObject(etag=etag, size=stored.size, key=created.key)

    def head(self, key: str) -> StoredObject | None:
        return None  # Companion has no route to look at an object

    def find(self, key: str) -> StoredObject | None:
        return None

    def delete(self, key: str) -> None:
        log.info("Companion cannot delete %s; the next upload of the session replaces it", key)

    # ---- helpers ---------------------------------------------------------------------------

    def _part_urls(self, key: str, upload_id: str) -> PartUrls:
        urls = self._urls.get(upload_id)
        if urls is None:
            def sign(numbers: list[int]) -> dict[int, str]:
                return self._sign(key, upload_id, numbers)
            urls = self._urls.setdefault(upload_id, PartUrls(sign))
        return urls

    def _sign(self, key: str, upload_id: str, numbers: list[int]) -> dict[int, str]:
        if len(numbers) == 1:
            answer = self.http.call_json(
                "GET", f"/s3/multipart/{_q(upload_id)}/{numbers[0]}?key={_q(key)}")
            url = answer.get("url") if isinstance(answer, dict) else None
            signed = {numbers[0]: url} if isinstance(url, str) else {}
        else:
            answer = self.http.call_json(
                "GET", f"/s3/multipart/{_q(upload_id)}/batch?key={_q(key)}"
                       f"&partNumbers={','.join(map(str, numbers))}")
            found: Any = answer.get("presignedUrls") if isinstance(answer, dict) else None
            signed = {int(n): u for n, u in found.items() if isinstance(u, str)} \
                if isinstance(found, dict) else {}
        if any(n not in signed for n in numbers):
            raise errors.unreadable_answer("/s3/multipart/{uploadId}/batch")
        return signed


def _q(text: str) -> str:
    return quote(text, safe="")
