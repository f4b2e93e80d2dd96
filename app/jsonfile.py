"""Atomic JSON writes, tolerant JSON reads, and the one bounded JSON parser.

Writes go to a temp file in the same folder, are flushed and fsynced, then
`os.replace`d over the target and the folder is fsynced, so after a crash the
file holds either the old or the new content. Files are private (0600) unless
asked otherwise. Reads never raise: they return the parsed value, or say the
file is missing, or give a one-line reason why it is damaged. Only a regular
file is read (never through a link, never blocking on a FIFO), at most
`MAX_JSON_BYTES`.

Every JSON document or line sessionrec reads goes through `loads`: nesting
deeper than `MAX_JSON_DEPTH` and the non-JSON constants NaN/Infinity are
refused with a ValueError, so a hostile file can never raise RecursionError
(which would escape handlers written for bad data) or smuggle in a non-finite
number.
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

from app import session_files

T = TypeVar("T")

# Larger files than this are never state or metadata we wrote; refusing them
# keeps a hand-edited or corrupted multi-GB file from eating memory.
MAX_JSON_BYTES = 16 * 1024 * 1024
# Our deepest document (upload-state.json: multipart -> parts -> part) is 4 levels.
MAX_JSON_DEPTH = 32
# One actions.jsonl / frames.jsonl line is a few hundred bytes at most.
MAX_JSON_LINE_BYTES = 64 * 1024
FILE_MODE = 0o600


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative, so checking a deep value cannot itself recurse.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse one JSON document; ValueError (never RecursionError) for anything that is not
    plain JSON nested at most `max_depth` levels. Bytes must be UTF-8."""
    text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    # Counting brackets is a cheap upper bound on the depth: most documents skip the walk.
    if text.count("[") + text.count("{") > max_depth and _depth_exceeds(value, max_depth):
        raise ValueError(f"nested more than {max_depth} levels deep")
    return value


def dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_bytes_atomic(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Replace `path` with `data` so a reader or a crash never sees a partial file.
    A link at `path` is replaced by the file; its target is never written."""
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
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


def write_json_atomic(path: Path, obj: Any, mode: int = FILE_MODE) -> None:
    write_bytes_atomic(path, dumps(obj), mode)


def read_json(path: Path, parse: Callable[[Any], T]) -> Loaded[T]:
    """Read and parse a file of the data folder (not of a session: sessions.py reads those
    through session_files); never raises for a missing, unsafe, unreadable or malformed file."""
    try:
        fd = session_files.open_regular(path)
    except FileNotFoundError:
        return Loaded(missing=True)
    except session_files.UnsafeFile as exc:
        return Loaded(problem=unsafe_problem(exc))
    except OSError as exc:
        return Loaded(problem=f"{path.name} cannot be opened ({exc.strerror or exc})")
    try:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        return Loaded(problem=f"{path.name} cannot be read ({exc.strerror or exc})")
    return parse_json_bytes(raw, path.name, parse)


def unsafe_problem(exc: session_files.UnsafeFile) -> str:
    """An UnsafeFile sentence in the style of Loaded.problem (a clause, no final stop)."""
    return str(exc).rstrip(".")


def parse_json_bytes(raw: bytes, name: str, parse: Callable[[Any], T]) -> Loaded[T]:
    if len(raw) > MAX_JSON_BYTES:
        return Loaded(problem=f"{name} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MiB")
    if not raw.strip():
        return Loaded(problem=f"{name} is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Loaded(problem=f"{name} is not UTF-8 text")
    try:
        data = loads(text)
    except ValueError as exc:
        return Loaded(problem=f"{name} is not valid JSON ({_short(exc)})")
    try:
        return Loaded(value=parse(data))
    except (SchemaError, ValueError, TypeError, KeyError, RecursionError) as exc:
        return Loaded(problem=f"{name} has unexpected content ({_short(exc)})")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
