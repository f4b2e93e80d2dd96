"""`sessionrec cancel ID`: a pending, running or failed upload ends as not_uploaded, its
multipart upload aborted so nothing is left billed (a failed session keeps its multipart
upload only so that Retry resumes it; cancel is how to drop it).

When another process owns the queue the cancel is handed to it, and this command returns
once that process has stopped the upload (within about a second). With no owner the abort
is sent from here and the state is written directly."""

from __future__ import annotations

import argparse

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, disk_sentence, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.commands import queue_support as qs
    from app.logs import setup_logging
    from app.upload.queue.calls import destination_calls
    from app.upload.queue.checks import load_valid_config, state_problem
    from app.upload.queue.core import CANCELLABLE
    from app.upload.queue.ops import abort_and_reset
    from app.upload.session.state_store import UploadStateStore

    setup_logging(ctx.data_dir)
    data_dir, session_id = ctx.data_dir, args.session_id
    try:
        store = UploadStateStore(data_dir)
        status, problem = state_problem(store, session_id)
    except ValueError as exc:  # not a session id
        return fail(str(exc), EXIT_USAGE)
    if problem:
        return fail(problem, EXIT_USAGE)
    if status not in CANCELLABLE:
        words = (status or "not_uploaded").replace("_", " ")
        return fail(f"Session {session_id} is not queued or failed (it is {words}).", EXIT_USAGE)
    owned = qs.take_or_find_owner(data_dir)
    if owned.lock is None:
        return qs.hand_off_one(data_dir, "cancel", session_id, "cancelled")
    try:
        config, _ = load_valid_config(data_dir)
        state = abort_and_reset(data_dir, store, session_id, config, destination_calls().abort)
    except OSError as exc:
        return fail(disk_sentence(exc, f"session {session_id} could not be cancelled"), EXIT_FAILED)
    finally:
        owned.lock.release()
    if state.last_error:
        return fail(state.last_error, EXIT_FAILED)
    print(f"{session_id}: cancelled")
    return EXIT_OK
