"""`SimpleTransport`: the seed's contract — one presigned PUT per zip.

    POST <presignPath> {"key", "contentType"} -> {"key", "signedUrl", "downloadUrl"}
                                                  (or the same inside {"data": {...}})
    PUT  <signedUrl>   the zip, Content-Type application/zip and Content-MD5

There is no multipart route in this contract, so every zip is one PUT (the destination asks
the session for parts of S3's largest size, 5 GiB): it cannot resume after a crash (the next
attempt sends the zip again) and a bigger zip is refused with a sentence naming
`backendProtocol=companion`. The PUT answer's ETag (the store's MD5 of what it got) proves
the object; Content-MD5 lets the store refuse damaged bytes before it stores them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from app.upload.backend import errors
from app.upload.backend.http import BackendHttp, SignedUrlExpired
from app.upload.backend.settings import BackendSettings
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.part_reader import SliceReader
from app.upload.session.transport import (
    CONTENT_TYPE,
    CreatedUpload,
    HeldPart,
    StoredObject,
    UploadGone,
)

if TYPE_CHECKING:
    from app.models import UploadedPart

log = logging.getLogger(__name__)

RESIGN_LIMIT = 3
TOO_BIG = ("The zip is larger than 5 GiB, more than one signed upload of the simple backend "
           "protocol can carry; use backendProtocol=companion.")


class SimpleTransport:
    def __init__(self, settings: BackendSettings, http: BackendHttp | None = None) -> None:
        self.settings = settings
        self.http = http or BackendHttp(settings)
        self.resigned = 0

    @property
    def checksum_algorithm(self) -> str | None:
        return None

    @property
    def verifies_by_head(self) -> bool:
        return False

    def presign(self, key: str) -> tuple[str, str]:
        """(key, signedUrl) the backend answers for a PUT of `key`."""
        path = self.settings.presign_path
        answer: Any = self.http.call_json("POST", path, {"key": key, "contentType": CONTENT_TYPE})
        if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
            answer = answer["data"]
        url = answer.get("signedUrl") or answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise errors.unreadable_answer(path)
        stored_key = answer.get("key")
        return (stored_key if isinstance(stored_key, str) and stored_key else key), url

    def put_object(self, key: str, body: SliceReader, length: int, metadata: Mapping[str, str],
                   checksum: str | None, md5_hex: str) -> StoredObject:
        stored_key, url = self.presign(key)
        headers = {"Content-Type": CONTENT_TYPE}
        if md5_hex:
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(md5_hex)).decode()
        for attempt in range(RESIGN_LIMIT + 1):
            body.seek(0)
            try:
                answer = self.http.put_signed(url, body, length, headers)
            except SignedUrlExpired:
                if attempt >= RESIGN_LIMIT:
                    raise errors.signed_urls_keep_expiring() from None
                log.info("the signed URL expired; asking the backend for a new one")
                self.resigned += 1
                stored_key, url = self.presign(key)
                continue
            return StoredObject(etag=answer.etag, size=length,
                                key=stored_key if stored_key != key else None)
        raise AssertionError("unreachable")

    # ---- no multipart in this contract ---------------------------------------------------

    def create(self, key: str, metadata: Mapping[str, str]) -> CreatedUpload:
        raise UploadError(ErrorKind.CONFIG, TOO_BIG, "zip over 5 GiB")

    def upload_part(self, key: str, upload_id: str, number: int, body: SliceReader, length: int,
                    checksum: str | None) -> str:
        raise UploadError(ErrorKind.CONFIG, TOO_BIG, "zip over 5 GiB")

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        raise UploadGone  # nothing of a multipart upload is held through this contract

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> StoredObject:
        raise UploadError(ErrorKind.CONFIG, TOO_BIG, "zip over 5 GiB")

    def abort(self, key: str, upload_id: str) -> None:
        raise UploadGone

    def head(self, key: str) -> StoredObject | None:
        return None

    def find(self, key: str) -> StoredObject | None:
        return None

    def delete(self, key: str) -> None:
        log.info("the simple backend protocol cannot delete %s; the next upload replaces it", key)
