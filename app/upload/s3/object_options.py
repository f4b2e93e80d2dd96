"""What a bucket's policy may require of every object: storage class, server-side encryption
(with a KMS key), tags and the `bucket-owner-full-control` ACL. Checked like every other
setting (one sentence per camelCase field), sent with the single PutObject and with
CreateMultipartUpload alike, and checked again by HeadObject after the upload.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS",
                   "SNOW", "EXPRESS_ONEZONE")
SSE_MODES = ("AES256", "aws:kms")
ACLS = ("bucket-owner-full-control",)
MAX_TAGS = 10  # S3's limit per object
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
# S3 tags: letters, digits and spaces (any script) and + - = . _ : / @.
_TAG_CHARS = re.compile(r"^[\w +\-=.:/@]*$")
# A key id (UUID), a multi-region key id, an ARN of a key or alias, or alias/<name>.
_KMS_KEY = re.compile(r"^(arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_+=.@-]+"
                      r"|alias/[A-Za-z0-9/_-]{1,250}|(mrk-)?[0-9a-f-]{32,36})$")


def parse_tags(text: str) -> dict[str, str]:
    """`team=qa,project=checkout` (what `config set objectTags=…` takes) as a mapping;
    ValueError with one sentence when a pair has no '='."""
    tags: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{pair[:40]}' is not key=value; write tags like team=qa,project=checkout.")
        tags[key.strip()] = value.strip()
    return tags


def format_tags(tags: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (tags or {}).items())


def _tags_problem(tags: dict[str, Any]) -> str | None:
    if len(tags) > MAX_TAGS:
        return f"An object can carry at most {MAX_TAGS} tags."
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "Tags must be text keys with text values."
        shown = key[:40]
        if not 1 <= len(key) <= MAX_TAG_KEY:
            return f"A tag key must be 1 to {MAX_TAG_KEY} characters ('{shown}')."
        if len(value) > MAX_TAG_VALUE:
            return f"The value of tag '{shown}' is longer than {MAX_TAG_VALUE} characters."
        if key.lower().startswith("aws:"):
            return f"Tag keys starting with 'aws:' are reserved by AWS ('{shown}')."
        if not _TAG_CHARS.fullmatch(key) or not _TAG_CHARS.fullmatch(value):
            return (f"Tag '{shown}' uses a character S3 does not allow in tags; use letters, "
                    "digits, spaces and + - = . _ : / @.")
    return None


def option_problems(config: UploadConfig) -> dict[str, str]:
    """camelCase field -> one sentence, for the object options only."""
    problems: dict[str, str] = {}
    if config.storage_class is not None and config.storage_class not in STORAGE_CLASSES:
        problems["storageClass"] = ("The storage class must be one of " + ", ".join(STORAGE_CLASSES)
                                    + ", or empty for the bucket's default.")
    if config.server_side_encryption is not None and config.server_side_encryption not in SSE_MODES:
        problems["serverSideEncryption"] = ("Server-side encryption must be AES256 or aws:kms, "
                                            "or empty for the bucket's default.")
    if config.sse_kms_key_id is not None:
        if config.server_side_encryption != "aws:kms":
            problems["sseKmsKeyId"] = "A KMS key id needs serverSideEncryption set to aws:kms."
        elif not _KMS_KEY.fullmatch(config.sse_kms_key_id):
            problems["sseKmsKeyId"] = ("The KMS key id must be a key id, a key or alias ARN, or "
                                       "alias/<name>.")
    if config.object_tags is not None:
        problem = _tags_problem(config.object_tags)
        if problem:
            problems["objectTags"] = problem
    if config.acl is not None and config.acl not in ACLS:
        problems["acl"] = "The only ACL sessionrec sets is bucket-owner-full-control (or none)."
    return problems


def object_args(config: UploadConfig) -> dict[str, str]:
    """The PutObject / CreateMultipartUpload arguments for the configured options."""
    args: dict[str, str] = {}
    if config.storage_class:
        args["StorageClass"] = config.storage_class
    if config.server_side_encryption:
        args["ServerSideEncryption"] = config.server_side_encryption
        if config.sse_kms_key_id:
            args["SSEKMSKeyId"] = config.sse_kms_key_id
    if config.object_tags:
        args["Tagging"] = urlencode(config.object_tags)
    if config.acl:
        args["ACL"] = config.acl
    return args


def needs_head(config: UploadConfig) -> bool:
    """Whether verification must ask HeadObject even when the write's answer proves the bytes:
    only HeadObject shows the storage class and encryption the object got."""
    return bool(config.storage_class or config.server_side_encryption)


def head_mismatches(config: UploadConfig, head: dict[str, Any]) -> list[str]:
    """What HeadObject shows was not applied: the storage class and the encryption (and its
    key, when given as a key id or ARN). Tags and ACLs are not in HeadObject's answer."""
    problems: list[str] = []
    if config.storage_class:
        # S3 leaves the header out for STANDARD.
        stored = head.get("StorageClass") or "STANDARD"
        if stored != config.storage_class:
            problems.append(f"storage class {stored} instead of {config.storage_class}")
    if config.server_side_encryption:
        stored = head.get("ServerSideEncryption")
        if stored != config.server_side_encryption:
            problems.append(f"encryption {stored or 'none'} instead of {config.server_side_encryption}")
        key = config.sse_kms_key_id
        stored_key = str(head.get("SSEKMSKeyId") or "")
        if key and not key.startswith("alias/") and ":alias/" not in key and stored_key \
                and not stored_key.endswith(key.rsplit("/", 1)[-1]):
            problems.append("another KMS key")
    return problems
