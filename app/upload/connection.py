"""`test_connection`: can these settings reach the bucket and write to it?

HeadBucket proves the bucket exists and the credentials are accepted; a multipart upload
created and aborted at once proves write permission without leaving an object behind.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.upload.config import UploadConfig, expand_prefix, validate_config
from app.upload.credentials import StoredSecrets, make_s3_client
from app.upload.errors import UploadError
from app.upload.s3errors import classify

log = logging.getLogger(__name__)
PROBE_NAME = ".sessionrec-write-probe"


def test_connection(data_dir: Path, config: UploadConfig,
                    secrets: StoredSecrets | None = None) -> str | None:
    """None when the bucket can be reached and written to, else one sentence.

    `secrets` tries a secret that is typed but not saved, without storing it anywhere.
    """
    problems = validate_config(config)
    if problems:
        return next(iter(problems.values()))
    try:
        client = make_s3_client(data_dir, config, secrets)
        try:
            client.head_bucket(Bucket=config.bucket)
        except Exception as exc:
            raise classify(exc, config.bucket, "HeadBucket") from exc
        key = expand_prefix(config.key_prefix) + PROBE_NAME
        try:
            upload = client.create_multipart_upload(Bucket=config.bucket, Key=key)
            client.abort_multipart_upload(Bucket=config.bucket, Key=key, UploadId=upload["UploadId"])
        except Exception as exc:
            raise classify(exc, config.bucket, "write probe") from exc
    except UploadError as error:
        return error.sentence
    return None


# pytest would otherwise collect this function from modules that import it.
test_connection.__test__ = False  # type: ignore[attr-defined]
