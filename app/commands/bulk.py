"""What `retry --all-failed` and `upload --all-not-uploaded` share: picking the sessions, and
queueing many at once (handed to the queue's owner in batches, or written to disk)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from app.models import UploadStatus

if TYPE_CHECKING:
    from app.upload.state_store import UploadStateStore


def all_with_status(data_dir: Path, status: UploadStatus) -> list[str]:
    """Every exported, undamaged session with `status`, oldest first (the order they queue in)."""
    from app.sessions import list_sessions

    items = [i for i in list_sessions(data_dir)
             if i.upload_status == status and i.is_exported and not i.damaged]
    return [i.session_id for i in reversed(items)]


def apply_to_many(data_dir: Path, op: str, ids: list[str]) -> int:
    """`op` ("upload" or "retry") for every id: to the owner of the queue when there is one,
    else `pending` on disk for the next owner. Sessions refused are named on stderr (exit 1
    when any was); the others still go."""
    from app.commands import queue_support as qs
    from app.commands.upload import QUEUED_HINT
    from app.logs import setup_logging
    from app.upload.handoff import BATCH_IDS, HandOffError
    from app.upload.queue_checks import load_valid_config
    from app.upload.queue_ops import mark_pending
    from app.upload.state_store import UploadStateStore

    setup_logging(data_dir)
    store = UploadStateStore(data_dir)
    owned = qs.take_or_find_owner(data_dir)
    refused: dict[str, str] = {}
    queued: list[str] = []
    if owned.lock is None:
        who = f"process {owned.pid}" if owned.pid else "another process"
        for start in range(0, len(ids), BATCH_IDS):
            batch = ids[start:start + BATCH_IDS]
            try:
                answers = qs.hand_off(data_dir, op, batch)
            except HandOffError as exc:
                return fail(str(exc), EXIT_FAILED)
            for session_id in batch:
                answer = answers.get(session_id)
                if answer:
                    refused[session_id] = answer
                else:
                    queued.append(session_id)
                    print(f"{session_id}: queued in the upload queue of {who}")
    else:
        try:
            config, problem = load_valid_config(data_dir)
            if config is None:
                return fail(problem or "The upload settings are not valid.", EXIT_USAGE)
            for session_id in ids:
                sentence = _problem(data_dir, store, session_id, op)
                if sentence:
                    refused[session_id] = sentence
                    continue
                mark_pending(data_dir, store, session_id, config, reset_retries=True)
                queued.append(session_id)
                print(f"{session_id}: {QUEUED_HINT}")
        finally:
            owned.lock.release()
    for sentence in list(refused.values())[1:]:
        print(f"sessionrec: {sentence}", file=sys.stderr)
    if refused:
        return fail(next(iter(refused.values())), EXIT_FAILED)
    return EXIT_OK


def _problem(data_dir: Path, store: UploadStateStore, session_id: str, op: str) -> str | None:
    """Re-checked one by one: a session may have changed since it was listed."""
    from app.upload.queue_checks import check_enqueueable, state_problem

    if op == "retry":
        status, problem = state_problem(store, session_id)
        if problem:
            return problem
        if status != "failed":
            return f"Session {session_id} has not failed any more."
    return check_enqueueable(data_dir, store, session_id)
