"""Export a finished session as session.zip, verified, then marked with .exported.

Steps: write `session.zip.partial` (ZIP64 allowed; video and PNGs stored as they are, JSON and
JSONL deflated; `manifest.json` last with the size and SHA-256 of every member), fsync, rename to
`session.zip`, read it back (every member's CRC via zipfile, every member's SHA-256 and size
against the manifest, no member missing or extra), hash the zip, record zipPath / fileSizeBytes /
zipSha256 in the meta, and only then write `.exported`. Any failure removes the partial or bad
zip and writes no marker, so `.exported` always means a complete, verified zip.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

from app.hashing import file_sha256
from app.jsonfile import write_bytes_atomic
from app.models import SessionMeta
from app.sessions import (
    ACTIONS_FILE,
    FRAMES_FILE,
    META_FILE,
    SCREENSHOTS_DIR,
    VIDEO_DIR,
    ZIP_FILE,
    SessionPaths,
    save_meta,
)

MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
# Already-compressed media gains nothing from deflate and costs CPU.
STORED_SUFFIXES = (".mp4", ".png", ".jpg", ".jpeg")


class ExportError(Exception):
    """One sentence saying why the zip could not be written."""


class ExportCancelled(ExportError):
    pass


def members(paths: SessionPaths) -> list[tuple[str, Path]]:
    """(name in zip, file) for everything the zip carries; temp and hidden files are skipped."""
    out: list[tuple[str, Path]] = []
    for name in (META_FILE, ACTIONS_FILE, FRAMES_FILE):
        if (paths.root / name).is_file():
            out.append((name, paths.root / name))
    for folder in (VIDEO_DIR, SCREENSHOTS_DIR):
        base = paths.root / folder
        if not base.is_dir():
            continue
        for file in sorted(base.iterdir()):
            if file.name.startswith(".") or not file.is_file() or file.is_symlink():
                continue
            out.append((f"{folder}/{file.name}", file))
    return out


def _copy_hashing(src: Path, dst: zipfile.ZipFile, name: str, cancel: threading.Event | None,
                  on_bytes: Callable[[int], None]) -> dict[str, object]:
    compress = zipfile.ZIP_STORED if name.endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
    info = zipfile.ZipInfo.from_file(src, name)
    info.compress_type = compress
    digest = hashlib.sha256()
    size = 0
    with src.open("rb") as reader, dst.open(info, "w", force_zip64=True) as writer:
        while chunk := reader.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise ExportCancelled("The export was cancelled.")
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
            on_bytes(len(chunk))
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


def write_zip(paths: SessionPaths, target: Path, cancel: threading.Event | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> None:
    files = members(paths)
    total = sum(file.stat().st_size for _, file in files)
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        if on_progress is not None:
            on_progress(done, total)

    with target.open("wb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True,
                             compresslevel=6) as archive:
            entries = [_copy_hashing(file, archive, name, cancel, on_bytes) for name, file in files]
            manifest = {"schemaVersion": 1, "sessionId": paths.session_id, "files": entries}
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        raw.flush()
        os.fsync(raw.fileno())


def verify_zip(path: Path) -> None:
    """Raise ExportError unless every member reads back (CRC) and matches the manifest."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            expected = {entry["path"]: entry for entry in manifest["files"]}
            names = set(archive.namelist()) - {MANIFEST}
            if names != set(expected):
                raise ExportError("The zip's contents do not match its manifest.")
            for name in sorted(names):
                digest = hashlib.sha256()
                size = 0
                # Reading to the end makes zipfile check the member's CRC-32.
                with archive.open(name) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                entry = expected[name]
                if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                    raise ExportError(f"The zip member {name} does not match its manifest.")
    except ExportError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ExportError(f"The zip did not read back ({exc}).") from exc


def disk_sentence(exc: OSError, what: str) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"The disk is full: {what}; the recording is kept and can be exported once there is space."
    return f"{what[:1].upper()}{what[1:]}: {exc.strerror or exc}."


def export_session(paths: SessionPaths, meta: SessionMeta, cancel: threading.Event | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> SessionMeta:
    """Write, verify and mark the zip; returns the meta with the zip fields filled in.
    Raises ExportError (one sentence) and leaves no partial zip and no marker on failure."""
    paths.exported_marker.unlink(missing_ok=True)
    try:
        # The zip carries exactly this meta, without the zip's own fields (a crash after a
        # previous export's meta save must not leave stale ones in it).
        meta = dataclasses.replace(meta, zip_path=None, file_size_bytes=None, zip_sha256=None)
        save_meta(paths, meta)
        write_zip(paths, paths.zip_partial, cancel, on_progress)
        os.replace(paths.zip_partial, paths.zip)
        verify_zip(paths.zip)
        size = paths.zip.stat().st_size
        sha = file_sha256(paths.zip)
        final = dataclasses.replace(meta, zip_path=ZIP_FILE, file_size_bytes=size, zip_sha256=sha)
        save_meta(paths, final)
        write_bytes_atomic(paths.exported_marker, b"")
        return final
    except BaseException as exc:
        for leftover in (paths.zip_partial, paths.zip, paths.exported_marker):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, ExportError):
            raise
        if isinstance(exc, OSError):
            raise ExportError(disk_sentence(exc, "the zip could not be written")) from exc
        raise
