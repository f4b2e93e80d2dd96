"""Upload one session's zip through a transport: resumable, verified, cancellable (DESIGN §4-§6).

Shape of one call to `run_upload`:
1. open the zip once through app/session_files.py (a regular file in a real session folder),
   check its size against session-meta.json and read its central directory (zip_verify.py);
   pick the key and part size; below one part -> a single PUT, hashed before it is sent
   (single.py);
2. multipart (multipart.py): reuse the upload recorded in upload-state.json if the zip is
   unchanged (listing the parts reconciles what the server holds), else abort it and create a
   new one, and persist the new uploadId before any part is sent;
3. send the missing parts from a bounded pool (`concurrency` workers, runner.py), each part
   read as a slice of the file; each finished part is recorded (throttled, ledger.py) and only
   then reported. Unless this file's SHA-256 was already confirmed, one sequential pass hashes
   it meanwhile;
4. complete only once the SHA-256 matched session-meta.json and the file did not change,
   then verify (verify.py: the answer's digest, or a head: size, checksum, ETag, metadata).
A session folder that disappears mid-upload ends the call within a second: the multipart
upload is aborted and SESSION_REMOVED raised.

This never changes `status`, `retry_count` or `last_error`: that is the queue's job. A
transient error in one part is retried inside this call at most PART_ATTEMPTS times;
everything else is raised as `UploadError` for the queue to back off and retry.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from app.models import UploadState
from app.sessions import InvalidSessionId, SessionPaths, session_paths
from app.upload.config import UploadConfig, object_key, part_size_for
from app.upload.session import uploaded_ledger
from app.upload.session.errors import (
    SESSION_REMOVED_SENTENCE,
    ErrorKind,
    UploadCancelled,
    UploadError,
    disk_read_error,
)
from app.upload.session.multipart import MultipartUpload
from app.upload.session.opened_zip import FolderRemoved, folder_gone, open_zip
from app.upload.session.part_reader import ReaderStopped
from app.upload.session.progress import Progress
from app.upload.session.runner import UploadRun
from app.upload.session.single import SingleUpload
from app.upload.session.state_store import UploadStateStore
from app.upload.session.transport import MultipartTransport, UploadGone
from app.upload.session.verify import already_stored

# Makes the transport of one upload call (a client, credentials): called once the zip is
# open and checked, so a bad zip is reported before any credential is looked at.
Connect = Callable[[], MultipartTransport]


def run_upload(data_dir: Path, session_id: str, config: UploadConfig, connect: Connect,
               store: UploadStateStore, on_progress: Callable[[Progress], None],
               cancel: threading.Event) -> UploadState:
    """Upload sessions/<id>/session.zip; see the module docstring and upload-contract.md."""
    if cancel.is_set():
        raise UploadCancelled
    try:
        paths = session_paths(data_dir, session_id)
    except InvalidSessionId as exc:  # a link in place of the folder: never followed
        raise UploadError(ErrorKind.DAMAGED, str(exc)) from exc
    started: list[UploadRun] = []
    try:
        return _upload(data_dir, paths, config, connect, store, on_progress, cancel, started)
    except (UploadCancelled, UploadGone):
        raise
    except Exception as exc:
        if isinstance(exc, FolderRemoved) or folder_gone(paths.root):
            if started:
                started[0].abort_current()
            raise UploadError(ErrorKind.SESSION_REMOVED, SESSION_REMOVED_SENTENCE,
                              "folder removed") from None
        if isinstance(exc, ReaderStopped):
            if cancel.is_set():
                raise UploadCancelled from None
            raise
        if isinstance(exc, OSError):
            raise disk_read_error(exc) from exc
        raise


def _upload(data_dir: Path, paths: SessionPaths, config: UploadConfig, connect: Connect,
            store: UploadStateStore, on_progress: Callable[[Progress], None],
            cancel: threading.Event, started: list[UploadRun]) -> UploadState:
    zip_file = open_zip(paths)
    try:
        session_id = paths.session_id
        state = store.get(session_id)
        resuming = state is not None and state.multipart is not None and state.s3_key
        key = state.s3_key if resuming and state and state.s3_key else object_key(config, session_id)
        part_size = (state.multipart.part_size if resuming and state and state.multipart
                     else part_size_for(config, zip_file.size))
        single = zip_file.size <= part_size
        kind = SingleUpload if single else MultipartUpload
        upload: SingleUpload | MultipartUpload = kind(data_dir, session_id, config, store,
                                                      on_progress, cancel, connect())
        started.append(upload)
        # Only for a state that has never named a key (new, or recreated after upload-state.json
        # was lost): after a failed verification the object there is the bad one.
        if not resuming and (state is None or not state.s3_key):
            before = uploaded_ledger.find(data_dir, session_id)
            if before is not None and (before.size, before.zip_sha256) == \
                    (zip_file.size, zip_file.expected_sha256):
                done = already_stored(upload, zip_file, before.s3_key)
                if done is not None:
                    return done
        return upload.run(zip_file, key, state)
    finally:
        zip_file.file.close()


def abort_recorded(data_dir: Path, session_id: str, config: UploadConfig, connect: Connect,
                   store: UploadStateStore) -> None:
    """Abort the multipart upload recorded for the session (if any) and forget it."""
    state = store.get(session_id)
    if state is None or state.multipart is None:
        if state is not None and state.bytes_uploaded:
            store.update(session_id, bytes_uploaded=0)
        return
    transport = connect()
    with contextlib.suppress(UploadGone):
        transport.abort(state.s3_key or object_key(config, session_id), state.multipart.upload_id)
    store.update(session_id, multipart=None, bytes_uploaded=0)


def abort_known(connect: Connect, key: str, upload_id: str) -> None:
    """Abort one multipart upload known only by key and id (its session folder is gone)."""
    with contextlib.suppress(UploadGone):
        connect().abort(key, upload_id)
