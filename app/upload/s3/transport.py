"""`S3Transport`: the multipart session's wire to S3, through one botocore client.

Every call is one request with botocore's own retries off (credentials.client_config); its
failure is classified here (errors.py) into the sentence people see, so the session sees
`UploadError`, `UploadGone` (NoSuchUpload) or `ReaderStopped` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.upload.config import UploadConfig
from app.upload.s3.credentials import make_s3_client
from app.upload.s3.errors import classify, error_code
from app.upload.s3.object_options import head_mismatches, needs_head, object_args
from app.upload.session import verify
from app.upload.session.errors import disk_read_error
from app.upload.session.part_reader import ReaderStopped, SliceReader
from app.upload.session.transport import (
    CONTENT_TYPE,
    CreatedUpload,
    HeldPart,
    StoredObject,
    UploadGone,
    stopped_reading,
)

if TYPE_CHECKING:
    from app.models import UploadedPart
    from app.upload.s3.credentials import StoredSecrets


class S3Transport:
    """The bucket of `config`; one client (with refreshing credentials) per upload call."""

    def __init__(self, data_dir: Path, config: UploadConfig,
                 secrets: StoredSecrets | None = None) -> None:
        self.config = config
        self.bucket = config.bucket
        self._algorithm = None if config.checksum_when_required else config.checksum_algorithm
        # `Expect: 100-continue` costs every part a round trip before its first byte. It lets
        # the server refuse a body it would not take (wrong key, no bucket) before it is
        # sent; once this upload was created or listed the server has said yes to these
        # credentials and this upload, so parts go without it.
        self.expect_continue = True
        self.client: Any = make_s3_client(data_dir, config, secrets)
        # Only the sending pass of a body is paced; botocore's signing pass is not.
        self.client.meta.events.register("before-send.s3.*", _mark_sending)
        self.client.meta.events.register("before-send.s3.UploadPart", self._drop_expect)

    @property
    def checksum_algorithm(self) -> str | None:
        return self._algorithm

    @property
    def verifies_by_head(self) -> bool:
        return needs_head(self.config)

    # ---- MultipartTransport ----------------------------------------------------------------

    def create(self, key: str, metadata: Mapping[str, str]) -> CreatedUpload:
        args: dict[str, Any] = {
            "Bucket": self.bucket, "Key": key, "ContentType": CONTENT_TYPE,
            "Metadata": dict(metadata), **object_args(self.config),
        }
        if self._algorithm:
            args["ChecksumAlgorithm"] = self._algorithm
        answer = self._call("CreateMultipartUpload", self.client.create_multipart_upload, **args)
        self.expect_continue = False
        return CreatedUpload(key, str(answer["UploadId"]))

    def upload_part(self, key: str, upload_id: str, number: int, body: SliceReader, length: int,
                    checksum: str | None) -> str:
        answer = self._call("UploadPart", self.client.upload_part, Bucket=self.bucket, Key=key,
                            UploadId=upload_id, PartNumber=number, Body=body,
                            ContentLength=length, **self._checksum_args(checksum))
        return str(answer["ETag"])

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        held: dict[int, HeldPart] = {}
        marker = 0
        while True:
            page = self._call("ListParts", self.client.list_parts, Bucket=self.bucket, Key=key,
                              UploadId=upload_id, MaxParts=1000, PartNumberMarker=marker)
            for part in page.get("Parts", []):
                held[int(part["PartNumber"])] = HeldPart(str(part["ETag"]),
                                                         int(part.get("Size", -1)))
            if not page.get("IsTruncated"):
                self.expect_continue = False
                return held
            marker = int(page["NextPartNumberMarker"])

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> StoredObject:
        entries = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.part_number, "ETag": part.etag}
            if self._algorithm and part.checksum:
                entry[f"Checksum{self._algorithm}"] = part.checksum
            entries.append(entry)
        answer = self._call("CompleteMultipartUpload", self.client.complete_multipart_upload,
                            Bucket=self.bucket, Key=key, UploadId=upload_id,
                            MultipartUpload={"Parts": entries})
        return stored_answer(answer, self._algorithm)

    def abort(self, key: str, upload_id: str) -> None:
        self._call("AbortMultipartUpload", self.client.abort_multipart_upload,
                   Bucket=self.bucket, Key=key, UploadId=upload_id)

    def put_object(self, key: str, body: SliceReader, length: int, metadata: Mapping[str, str],
                   checksum: str | None, md5_hex: str) -> StoredObject:
        answer = self._call("PutObject", self.client.put_object, Bucket=self.bucket, Key=key,
                            Body=body, ContentLength=length, ContentType=CONTENT_TYPE,
                            Metadata=dict(metadata), **object_args(self.config),
                            **self._checksum_args(checksum))
        return stored_answer(answer, self._algorithm)

    def head(self, key: str) -> StoredObject:
        head = self._call("HeadObject", self.client.head_object, Bucket=self.bucket, Key=key,
                          ChecksumMode="ENABLED")
        stored = _stored_head(head, self._algorithm)
        return StoredObject(stored.etag, stored.checksum, stored.size, stored.metadata,
                            tuple(head_mismatches(self.config, head)))

    def find(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            response: Any = getattr(exc, "response", None) or {}
            if response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (400, 403, 404):
                return None  # the upload itself says what is wrong, if anything
            raise classify(exc, self.bucket, "HeadObject") from exc
        return _stored_head(head, self._algorithm)

    def delete(self, key: str) -> None:
        self._call("DeleteObject", self.client.delete_object, Bucket=self.bucket, Key=key)

    # ---- helpers ---------------------------------------------------------------------------

    def _call(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ReaderStopped:
            raise
        except Exception as exc:
            if stopped_reading(exc):
                raise ReaderStopped from exc
            if error_code(exc) == "NoSuchUpload":
                raise UploadGone from exc
            if _is_local_read_error(exc):
                raise disk_read_error(exc) from exc  # type: ignore[arg-type]
            raise classify(exc, self.bucket, operation) from exc

    def _checksum_args(self, checksum: str | None) -> dict[str, str]:
        if not self._algorithm or checksum is None:
            return {}
        return {"ChecksumAlgorithm": self._algorithm, f"Checksum{self._algorithm}": checksum}

    def _drop_expect(self, request: Any, **_: Any) -> None:
        # Not a signed header (botocore never signs Expect), so it can go after signing.
        if not self.expect_continue:
            request.headers.pop("Expect", None)


def stored_answer(answer: Mapping[str, Any], algorithm: str | None) -> StoredObject:
    """What a PutObject or CompleteMultipartUpload answer says about the object."""
    checksum = answer.get(f"Checksum{algorithm}") if algorithm else None
    return StoredObject(etag=str(answer.get("ETag", "")) or None,
                        checksum=str(checksum) if checksum is not None else None)


def _stored_head(head: Mapping[str, Any], algorithm: str | None) -> StoredObject:
    checksum = head.get(f"Checksum{algorithm}") if algorithm else None
    return StoredObject(etag=str(head.get("ETag", "")) or None,
                        checksum=str(checksum) if checksum else None,
                        size=int(head.get("ContentLength", -1)),
                        metadata=dict(head.get("Metadata", {})))


def answer_proves(answer: Mapping[str, Any], algorithm: str | None, expected_checksum: str | None,
                  expected_etag: str | None, parts: int | None) -> str | None:
    """`verify.answer_proves` for an S3 answer as botocore returns it."""
    return verify.answer_proves(stored_answer(answer, algorithm), algorithm, expected_checksum,
                                expected_etag, parts)


def _is_local_read_error(exc: BaseException) -> bool:
    """An OSError from reading the zip, as opposed to a network error botocore wraps."""
    import botocore.exceptions

    return (isinstance(exc, OSError)
            and not isinstance(exc, botocore.exceptions.BotoCoreError | ConnectionError | TimeoutError))


def _mark_sending(request: Any, **_: Any) -> None:
    body = getattr(request, "body", None)
    if isinstance(body, SliceReader):
        body.sending = True
