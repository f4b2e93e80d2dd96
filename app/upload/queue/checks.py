"""The checks done before a session may enter the queue, as one-sentence answers.

Every function here only reads; a check that fails changes nothing on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app import session_files
from app.sessions import EXPORTED_MARKER, ZIP_FILE, InvalidSessionId, load_meta, session_paths
from app.upload.session.state_store import StateDamaged, UploadStateStore

if TYPE_CHECKING:
    from app.upload.config import UploadConfig


def load_valid_config(data_dir: Path) -> tuple[UploadConfig | None, str | None]:
    """The upload settings, or None and the sentence saying why they cannot be used."""
    from app.upload.config import load_config, validate_config

    loaded = load_config(data_dir)
    if loaded.missing or (loaded.value is None and not loaded.problem):
        return None, ("Uploading is not set up yet; set the bucket first "
                      "(sessionrec config set bucket=NAME region=REGION).")
    if loaded.problem or loaded.value is None:
        return None, f"The upload settings cannot be read ({loaded.problem})."
    problems = validate_config(loaded.value)
    if problems:
        field, sentence = next(iter(sorted(problems.items())))
        return None, f"The upload settings are not valid: {sentence.rstrip('.')} ({field})."
    return loaded.value, None


def session_problem(data_dir: Path, session_id: str) -> str | None:
    """Why this session cannot be uploaded (missing, unreadable, not exported), or None.

    The folder must be a real folder and the zip a regular file (app/session_files.py): a
    symlinked folder or zip is refused, never followed."""
    try:
        paths = session_paths(data_dir, session_id)
    except InvalidSessionId as exc:
        return str(exc)
    try:
        session_files.check_session_root(paths.root)
    except FileNotFoundError:
        return f"There is no session {session_id}."
    except OSError as exc:
        return f"Session {session_id} cannot be uploaded: {str(exc).rstrip('.')}."
    meta = load_meta(paths)
    if meta.value is None:
        return f"Session {session_id} cannot be read ({meta.problem or 'session-meta.json is missing'})."
    try:
        marker = session_files.stat_regular(paths.root, EXPORTED_MARKER)
        zip_info = session_files.stat_regular(paths.root, ZIP_FILE)
    except OSError as exc:
        return f"Session {session_id} cannot be uploaded: {str(exc).rstrip('.')}."
    if marker is None:
        return f"Session {session_id} is not exported yet."
    if zip_info is None:
        return f"Session {session_id} has no zip to upload (its local files may have been removed)."
    return None


def state_problem(store: UploadStateStore, session_id: str) -> tuple[str | None, str | None]:
    """(current status or None, sentence when the state file cannot be read)."""
    try:
        state = store.get(session_id)
    except StateDamaged as exc:
        return None, (f"The upload state of session {session_id} cannot be read ({exc}); move "
                      "its upload-state.json away to upload it again (a copy already in the bucket "
                      "is recognised and not sent twice).")
    return (state.status if state else None), None


ConfigLoader = Callable[[Path], "tuple[UploadConfig | None, str | None]"]


def check_enqueueable(data_dir: Path, store: UploadStateStore, session_id: str,
                      load_config: ConfigLoader | None = None) -> str | None:
    """None when `session_id` may be queued now, else one sentence; reads only."""
    return check_for_queue(data_dir, store, session_id, load_config)[1]


def check_for_queue(data_dir: Path, store: UploadStateStore, session_id: str,
                    load_config: ConfigLoader | None = None
                    ) -> tuple[UploadConfig | None, str | None]:
    """`check_enqueueable`, also returning the settings it checked against, so one action
    checks once and loads upload-config.json once: (config, None) or (None, sentence)."""
    problem = session_problem(data_dir, session_id)
    if problem:
        return None, problem
    status, problem = state_problem(store, session_id)
    if problem:
        return None, problem
    if status == "done":
        return None, f"Session {session_id} is already uploaded."
    return (load_config or load_valid_config)(data_dir)
