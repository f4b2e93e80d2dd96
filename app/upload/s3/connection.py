"""`test_connection`: can these settings reach the bucket and write to it?

HeadBucket proves the bucket exists and the credentials are accepted; a multipart upload
created and aborted at once proves write permission without leaving an object behind.
`lifecycle_sentence` says whether the bucket removes unfinished multipart uploads by itself
(a lifecycle rule with AbortIncompleteMultipartUpload), which is what cleans up after an
upload that is never finished nor cancelled.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from app.upload.config import UploadConfig, expand_prefix, validate_config
from app.upload.s3.credentials import StoredSecrets, make_s3_client
from app.upload.s3.errors import classify, error_code
from app.upload.session.errors import UploadError

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


NO_RULE = ("The bucket has no lifecycle rule that removes unfinished multipart uploads, so the "
           "parts of an upload that is never finished or cancelled stay in the bucket (and are "
           "billed) until removed; the README shows how to add one.")


def lifecycle_sentence(data_dir: Path, config: UploadConfig) -> str:
    """One sentence: does a lifecycle rule abort this app's unfinished multipart uploads?"""
    try:
        client = make_s3_client(data_dir, config)
        rules = client.get_bucket_lifecycle_configuration(Bucket=config.bucket).get("Rules", [])
    except UploadError as error:
        return f"Whether the bucket removes unfinished uploads could not be checked: {error.sentence}"
    except Exception as exc:
        code = error_code(exc)
        if code == "NoSuchLifecycleConfiguration":
            return NO_RULE
        refused = classify(exc, config.bucket, "GetBucketLifecycleConfiguration")
        return ("Whether the bucket removes unfinished uploads could not be checked "
                f"({refused.sentence.rstrip('.')}).")
    prefix = expand_prefix(config.key_prefix)
    for rule in rules:
        days = _abort_days(rule, prefix)
        if days is not None:
            name = f" ('{str(rule.get('ID'))[:60]}')" if rule.get("ID") else ""
            return (f"The bucket removes unfinished multipart uploads {days} day"
                    f"{'s' if days != 1 else ''} after they began (lifecycle rule{name}).")
    return NO_RULE


def _abort_days(rule: dict[str, Any], key_prefix: str) -> int | None:
    """Days after which `rule` aborts an unfinished upload under `key_prefix`, else None."""
    if rule.get("Status") != "Enabled":
        return None
    days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    if not isinstance(days, int):
        return None
    rule_filter = rule.get("Filter")
    if rule_filter is None:
        rule_prefix = rule.get("Prefix", "")  # the older form of a rule
    elif set(rule_filter) <= {"Prefix"}:
        rule_prefix = rule_filter.get("Prefix", "")
    elif set(rule_filter) == {"And"} and set(rule_filter["And"]) <= {"Prefix"}:
        rule_prefix = rule_filter["And"].get("Prefix", "")
    else:
        return None  # tag or size filters never match an unfinished upload
    return days if isinstance(rule_prefix, str) and key_prefix.startswith(rule_prefix) else None


# pytest would otherwise collect this function from modules that import it.
test_connection.__test__ = False  # type: ignore[attr-defined]
