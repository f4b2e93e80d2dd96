"""Atomic JSON writes and tolerant JSON reads.

Writes go to a temp file in the same folder, are flushed and fsynced, then
`os.replace`d over the target and the folder is fsynced, so after a crash the
file holds either the old or the new content. Reads never raise: they return
the parsed value, or say the file is missing, or give a one-line reason why it
is damaged.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Larger files than this are never state or metadata we wrote; refusing them
# keeps a hand-edited or corrupted multi-GB file from eating memory.
MAX_JSON_BYTES = 16 * 1024 * 1024


class SchemaError(ValueError):
    """Raised by parse callbacks when JSON is well-formed but has the wrong shape."""


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """Result of a tolerant read: exactly one of value / missing / problem is meaningful."""

    value: T | None = None
    missing: bool = False
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None and self.problem is None


def _fsync_dir(folder: Path) -> None:
    # Directory fsync makes the rename durable; not every filesystem supports it.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_bytes_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data` so a reader or a crash never sees a partial file."""
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # os.open's mode is filtered by umask; secrets files must be exactly `mode`.
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def write_json_atomic(path: Path, obj: Any, mode: int = 0o644) -> None:
    write_bytes_atomic(path, dumps(obj), mode)


def read_json(path: Path, parse: Callable[[Any], T], follow_symlinks: bool = False) -> Loaded[T]:
    """Read and parse `path`; never raises for a missing, unreadable or malformed file."""
    flags = os.O_RDONLY
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return Loaded(missing=True)
    except OSError as exc:
        if not follow_symlinks and path.is_symlink():
            return Loaded(problem=f"{path.name} is a symbolic link, which is not followed")
        return Loaded(problem=f"{path.name} cannot be opened ({exc.strerror or exc})")
    try:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        return Loaded(problem=f"{path.name} cannot be read ({exc.strerror or exc})")
    return parse_json_bytes(raw, path.name, parse)


def parse_json_bytes(raw: bytes, name: str, parse: Callable[[Any], T]) -> Loaded[T]:
    if len(raw) > MAX_JSON_BYTES:
        return Loaded(problem=f"{name} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MiB")
    if not raw.strip():
        return Loaded(problem=f"{name} is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Loaded(problem=f"{name} is not UTF-8 text")
    except (ValueError, RecursionError) as exc:
        return Loaded(problem=f"{name} is not valid JSON ({_short(exc)})")
    try:
        return Loaded(value=parse(data))
    except (SchemaError, ValueError, TypeError, KeyError, RecursionError) as exc:
        return Loaded(problem=f"{name} has unexpected content ({_short(exc)})")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
