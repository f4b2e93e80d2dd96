"""A zip no bigger than one part: one PUT, hashed before it is sent."""

from __future__ import annotations

import hashlib

from app.models import UploadState
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.object_meta import session_metadata
from app.upload.session.opened_zip import OpenedZip
from app.upload.session.part_reader import SliceReader, digest_slice
from app.upload.session.progress import ProgressMeter
from app.upload.session.runner import UploadRun
from app.upload.session.verify import answer_proves, verify_object
from app.upload.session.zip_verify import damaged


class SingleUpload(UploadRun):
    def run(self, zip_file: OpenedZip, key: str, state: UploadState | None) -> UploadState:
        self.zip, self.key = zip_file, key
        if state is not None and state.multipart is not None:
            # An older multipart upload (the zip shrank, or the part size grew): don't bill it.
            self.abort(state.multipart, state.s3_key or key)
        self.store.update(self.session_id, multipart=None, bytes_uploaded=0,
                          total_bytes=zip_file.size, s3_key=key)
        self.on_progress(ProgressMeter(zip_file.size).snapshot())
        metadata = session_metadata(self.data_dir, self.session_id, zip_file.expected_sha256)
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
                    answer = self.transport.put_object(key, body, zip_file.size, metadata,
                                                       digest.checksum, digest.md5_hex or "")
            if answer.key and answer.key != key:
                self.key = answer.key  # the server chose the key (Uppy Companion)
            result["checksum"] = digest.checksum or ""
            result["md5"] = digest.md5_hex or ""
            result["proof"] = answer_proves(answer, None, None, digest.md5_hex, None) or ""
            if self.algorithm and answer.checksum not in (None, digest.checksum):
                result["proof"] = ""  # the server says otherwise: let the head decide

        self.run_jobs([job])
        if zip_file.changed():
            # Written to while it was sent: the object may not be the verified bytes.
            self.transport.delete(self.key)
            raise UploadError(ErrorKind.INTEGRITY,
                              "The zip changed while it was being uploaded; it will be uploaded again.",
                              "zip changed")
        return verify_object(self, result["checksum"] or None, result["md5"] or None,
                             multipart_parts=1, proven=result["proof"] or None)
