"""What `retry --all-failed`, `upload --all-not-uploaded` and auto upload after `record` share:
picking the sessions, and queueing many at once (handed to the queue's owner in batches, or
written to disk for the next owner)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from app.models import UploadStatus

if TYPE_CHECKING:
    from app.upload.session.state_store import UploadStateStore

log = logging.getLogger(__name__)


def all_with_status(data_dir: Path, status: UploadStatus) -> list[str]:
    """Every exported, undamaged session with `status`, oldest first (the order they queue in)."""
    from app.sessions import list_sessions

    items = [i for i in list_sessions(data_dir)
             if i.upload_status == status and i.is_exported and not i.damaged]
    return [i.session_id for i in reversed(items)]


@dataclass
class Queued:
    """What `queue_many` did: the ids queued, the refused ones with their sentence, and who
    runs the queue (None: written to disk for the next owner)."""

    queued: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    problem: str | None = None  # nothing was done: the settings, or the owner did not answer


def queue_many(data_dir: Path, op: str, ids: list[str]) -> Queued:
    """`op` ("upload" or "retry") for every id: to the owner of the queue when there is one,
    else `pending` on disk for the next owner. Refused sessions do not stop the others."""
    from app.commands import queue_support as qs
    from app.upload.queue.checks import load_valid_config
    from app.upload.queue.handoff import BATCH_IDS, HandOffError
    from app.upload.queue.ops import mark_pending
    from app.upload.session.state_store import UploadStateStore

    store = UploadStateStore(data_dir)
    owned = qs.take_or_find_owner(data_dir)
    result = Queued()
    if owned.lock is None:
        result.owner = f"process {owned.pid}" if owned.pid else "another process"
        for start in range(0, len(ids), BATCH_IDS):
            batch = ids[start:start + BATCH_IDS]
            try:
                answers = qs.hand_off(data_dir, op, batch)
            except HandOffError as exc:
                result.problem = str(exc)
                return result
            for session_id in batch:
                answer = answers.get(session_id)
                if answer:
                    result.refused[session_id] = answer
                else:
                    result.queued.append(session_id)
        return result
    try:
        config, problem = load_valid_config(data_dir)
        if config is None:
            result.problem = problem or "The upload settings are not valid."
            return result
        for session_id in ids:
            sentence = _problem(data_dir, store, session_id, op)
            if sentence:
                result.refused[session_id] = sentence
                continue
            mark_pending(data_dir, store, session_id, config, reset_retries=True)
            result.queued.append(session_id)
    finally:
        owned.lock.release()
    return result


def apply_to_many(data_dir: Path, op: str, ids: list[str]) -> int:
    """`queue_many`, said on stdout (one line per session) and stderr (one per refusal);
    exit 1 when any was refused or the owner did not answer, 2 for unusable settings."""
    from app.commands.upload import QUEUED_HINT
    from app.logs import setup_logging

    setup_logging(data_dir)
    result = queue_many(data_dir, op, ids)
    for session_id in result.queued:
        print(f"{session_id}: queued in the upload queue of {result.owner}" if result.owner
              else f"{session_id}: {QUEUED_HINT}")
    if result.problem:
        return fail(result.problem, EXIT_FAILED if result.owner else EXIT_USAGE)
    for sentence in list(result.refused.values())[1:]:
        print(f"sessionrec: {sentence}", file=sys.stderr)
    if result.refused:
        return fail(next(iter(result.refused.values())), EXIT_FAILED)
    return EXIT_OK


def auto_upload(data_dir: Path, ids: list[str], say: Callable[[str], None]) -> None:
    """Queue freshly exported (or recovered) sessions when the settings have autoUpload on;
    says what happened in one line per session. Never raises: the recording is safe anyway."""
    if not ids:
        return
    from app.upload.config import load_config

    config = load_config(data_dir).value
    if config is None or not config.auto_upload_on:
        return
    try:
        result = queue_many(data_dir, "upload", ids)
    except Exception as exc:  # the session is recorded; uploading it can wait for a click
        log.exception("auto upload failed")
        say(f"auto upload: the sessions could not be queued ({type(exc).__name__}).")
        return
    if result.problem:
        say(f"auto upload: {result.problem}")
        return
    for session_id in result.queued:
        where = f"the upload queue of {result.owner}" if result.owner else \
            "the upload queue (run `sessionrec queue --wait` or open the app to upload)"
        say(f"session {session_id}: queued for upload in {where} (autoUpload is on)")
    for session_id, sentence in result.refused.items():
        say(f"session {session_id}: not queued for upload: {sentence}")


def _problem(data_dir: Path, store: UploadStateStore, session_id: str, op: str) -> str | None:
    """Re-checked one by one: a session may have changed since it was listed."""
    from app.upload.queue.checks import check_enqueueable, state_problem

    if op == "retry":
        status, problem = state_problem(store, session_id)
        if problem:
            return problem
        if status != "failed":
            return f"Session {session_id} has not failed any more."
    return check_enqueueable(data_dir, store, session_id)
