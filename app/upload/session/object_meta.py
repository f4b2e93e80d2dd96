"""The user metadata sent with every object (x-amz-meta-*), ASCII-safe.

S3 carries metadata in HTTP headers, so values must be ASCII. A title with other
characters (or one that could be mistaken for an encoded value) is sent as RFC 2047
encoded-words (`=?UTF-8?B?<base64>?=`, each at most 75 characters, joined by spaces) — the
form S3 itself uses for non-ASCII metadata, which any mail library decodes
(`decode_text` here; `email.header.decode_header` in Python).
"""

from __future__ import annotations

import base64
from email.header import decode_header, make_header
from pathlib import Path

from app import __version__
from app.models import SessionMeta

# S3 allows 2 KB of user metadata (keys plus values, in bytes).
MAX_METADATA_BYTES = 2048
_WORD_PREFIX = "=?UTF-8?B?"
_WORD_SUFFIX = "?="
# 75 characters per encoded-word (RFC 2047 §2): 63 of base64 = 45 bytes of UTF-8 at most.
_WORD_BYTES = 45


def _is_plain(value: str) -> bool:
    return (value.isascii() and value.isprintable() and "=?" not in value
            and value == value.strip())


def encode_text(value: str) -> str:
    """`value` as it goes into a metadata header: itself when plain ASCII, else RFC 2047."""
    if _is_plain(value):
        return value
    words: list[bytes] = []
    chunk = b""
    for ch in value:
        encoded = ch.encode("utf-8", "surrogatepass")
        if len(chunk) + len(encoded) > _WORD_BYTES:  # never split one character across words
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return " ".join(_WORD_PREFIX + base64.b64encode(w).decode("ascii") + _WORD_SUFFIX
                    for w in words)


def decode_text(value: str) -> str:
    """The text behind a metadata value written by `encode_text` (or by S3 itself)."""
    if "=?" not in value:
        return value
    return str(make_header(decode_header(value)))


def object_metadata(session_id: str, zip_sha256: str, meta: SessionMeta | None) -> dict[str, str]:
    """Metadata of one session's object; keys are lower-case, as S3 stores them."""
    out = {"session-id": session_id, "zip-sha256": zip_sha256, "app-version": __version__}
    if meta is not None:
        out.update({
            "created-at": str(meta.created_at),
            "duration-ms": str(meta.duration_ms),
            "action-count": str(meta.action_count),
            "screenshot-count": str(meta.screenshot_count),
            "frame-count": str(meta.frame_count),
        })
        if meta.title:
            title = meta.title
            # A hand-edited meta may hold more than the 200 characters a title may have.
            while title and _size({**out, "title": encode_text(title)}) > MAX_METADATA_BYTES:
                title = title[: len(title) - 10]
            if title:
                out["title"] = encode_text(title)
    return out


def session_metadata(data_dir: Path, session_id: str, zip_sha256: str) -> dict[str, str]:
    """The object's metadata from the session's meta as it is now."""
    from app.sessions import load_meta, session_paths

    meta = load_meta(session_paths(data_dir, session_id)).value
    return object_metadata(session_id, zip_sha256, meta)


def _size(metadata: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
