"""Share links: a presigned GET URL to an uploaded session's zip, made locally.

The URL is signed on this computer with the configured credentials (botocore's
`generate_presigned_url`: no request is sent), against the configured endpoint, so it works with
S3-compatible stores too. It is valid for `expires_s` seconds, at most 7 days: S3 refuses a
signature version 4 link valid for longer. When the credentials are temporary (they carry a
session token), the link stops working when they expire, whatever it says; `notes()` says so.

The URL is a bearer secret for that object: it is returned to the caller only, never logged
(its signature and any session token match the log scrubber's patterns in any case).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.sessions import InvalidSessionId, read_list_item, session_paths
from app.upload.session.errors import ErrorKind, UploadError

MAX_EXPIRES_S = 7 * 24 * 3600  # S3's limit for signature version 4
DEFAULT_EXPIRES_S = MAX_EXPIRES_S
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"(\d+)\s*([wdhms])")


class LinkError(Exception):
    """One sentence; `usage` says the request itself was wrong (exit code 2) rather than failed."""

    def __init__(self, sentence: str, usage: bool = True) -> None:
        super().__init__(sentence)
        self.usage = usage


def human_span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in
             ((days, "day"), (hours, "hour"), (minutes, "minute"), (secs, "second")) if n]
    return " ".join(parts[:2]) or "0 seconds"


def parse_duration(text: str) -> int:
    """Seconds from "7d", "12h", "90m", "45s", "1d12h", "2w" or a plain number of seconds."""
    raw = text.strip().lower()
    if raw.isdigit():
        seconds = int(raw)
    else:
        compact = raw.replace(" ", "")
        matches = list(_DURATION_RE.finditer(compact))
        if not matches or "".join(m.group(0) for m in matches) != compact:
            raise LinkError(f"'{text[:40]}' is not a duration; use for example 7d, 12h, 30m or 3600 "
                            "(seconds).")
        seconds = sum(int(m.group(1)) * _UNITS[m.group(2)] for m in matches)
    if seconds <= 0:
        raise LinkError("A link must be valid for at least one second.")
    if seconds > MAX_EXPIRES_S:
        raise LinkError(f"A link can be valid for at most 7 days ({text.strip()} was asked): S3 "
                        "refuses signature version 4 links that last longer. Ask for 7d or less.")
    return seconds


@dataclass(frozen=True)
class ShareLink:
    url: str
    session_id: str
    key: str
    expires_s: int
    expires_at: float  # epoch seconds
    temporary_credentials: bool
    credentials_expire_at: float | None = None  # epoch seconds, when the SDK knows it

    def __repr__(self) -> str:  # the URL is a secret for its object: never in a repr or a log
        return f"ShareLink(session_id={self.session_id!r}, expires_s={self.expires_s})"

    @property
    def ends_at(self) -> float:
        """When the link really stops working (temporary credentials may end it first)."""
        if self.credentials_expire_at is not None:
            return min(self.expires_at, self.credentials_expire_at)
        return self.expires_at

    def notes(self) -> list[str]:
        """Sentences to show with the link."""
        when = datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        out = [f"The link works for {human_span(self.expires_s)} (until {when}) for anyone who has it."]
        if self.temporary_credentials:
            if self.credentials_expire_at is not None:
                ends = datetime.fromtimestamp(self.credentials_expire_at, UTC).strftime(
                    "%Y-%m-%d %H:%M UTC")
                out.append(f"The credentials it is signed with are temporary and expire at {ends}: "
                           "the link stops working then, even if that is earlier.")
            else:
                out.append("The credentials it is signed with are temporary (they include a session "
                           "token): the link stops working when they expire, even if that is earlier.")
        return out


def uploaded_key(data_dir: Path, session_id: str) -> str:
    """The object key of an uploaded session, or LinkError saying why there is none."""
    try:
        paths = session_paths(data_dir, session_id)
    except InvalidSessionId as exc:
        raise LinkError(str(exc)) from None
    if not paths.root.is_dir():
        raise LinkError(f"There is no session {session_id}.")
    item = read_list_item(paths)
    if item.upload_status != "done":
        words = item.upload_status.replace("_", " ")
        raise LinkError(f"Session {session_id} is not uploaded yet (it is {words}); a link can only "
                        "point at an upload that finished.")
    if not item.s3_key:
        raise LinkError(f"Session {session_id} is uploaded but its object key was not recorded, so "
                        "no link can be made.")
    return item.s3_key


def _credential_expiry(client: Any) -> tuple[bool, float | None]:
    creds = client._request_signer._credentials
    if creds is None:
        return False, None
    frozen = creds.get_frozen_credentials()
    if not frozen.token:
        return False, None
    expiry = getattr(creds, "_expiry_time", None)  # botocore's RefreshableCredentials
    return True, (expiry.timestamp() if isinstance(expiry, datetime) else None)


def make_share_link(data_dir: Path, session_id: str, expires_s: int = DEFAULT_EXPIRES_S,
                    now: float | None = None) -> ShareLink:
    """Sign a GET URL for the session's zip. Raises LinkError with a sentence."""
    from botocore.config import Config

    from app.upload.queue.checks import load_valid_config
    from app.upload.s3.credentials import make_s3_client

    if not 0 < expires_s <= MAX_EXPIRES_S:
        raise LinkError("A link can be valid for at most 7 days (S3's limit for signature version 4).")
    key = uploaded_key(data_dir, session_id)
    config, problem = load_valid_config(data_dir)
    if config is None:
        raise LinkError(problem or "The upload settings are not valid.")
    if config.destination_kind != "s3":
        raise LinkError("A share link is signed with S3 keys on this computer; uploads go through "
                        "a backend here, so ask the backend for a link to the object.", usage=True)
    try:
        client = make_s3_client(data_dir, config, extra=Config(signature_version="s3v4"))
    except UploadError as exc:
        raise LinkError(exc.sentence, usage=exc.kind == ErrorKind.CONFIG) from None
    started = time.time() if now is None else now
    url = client.generate_presigned_url("get_object", Params={"Bucket": config.bucket, "Key": key},
                                        ExpiresIn=expires_s)
    temporary, creds_expire = _credential_expiry(client)
    return ShareLink(url=url, session_id=session_id, key=key, expires_s=expires_s,
                     expires_at=started + expires_s, temporary_credentials=temporary,
                     credentials_expire_at=creds_expire)
