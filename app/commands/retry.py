"""`sessionrec retry ID | --all-failed`: failed uploads go back to pending with their retry
count reset.

Handed to the process that owns the queue when there is one; otherwise written to disk for
the next owner (`sessionrec queue --wait` or the app). `--all-failed` takes every session
whose upload failed and that can be retried (exported, not damaged)."""

from __future__ import annotations

import argparse

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, disk_sentence, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID", nargs="?", default=None)
    parser.add_argument("--all-failed", action="store_true",
                        help="retry every failed upload that can be retried")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.all_failed:
        if args.session_id is not None:
            return fail("Give a session id or --all-failed, not both.", EXIT_USAGE)
        return run_all_failed(ctx)
    if args.session_id is None:
        return fail("Give the id of the session to retry, or --all-failed.", EXIT_USAGE)
    return run_one(args, ctx)


def run_all_failed(ctx: CommandContext) -> int:
    from app.commands.bulk import all_with_status, apply_to_many

    ids = all_with_status(ctx.data_dir, "failed")
    if not ids:
        print("No failed uploads to retry.")
        return EXIT_OK
    return apply_to_many(ctx.data_dir, "retry", ids)


def run_one(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.commands import queue_support as qs
    from app.commands.upload import QUEUED_HINT
    from app.logs import setup_logging
    from app.upload.queue.checks import load_valid_config, session_problem, state_problem
    from app.upload.queue.ops import mark_pending
    from app.upload.session.state_store import UploadStateStore

    setup_logging(ctx.data_dir)
    data_dir, session_id = ctx.data_dir, args.session_id
    store = UploadStateStore(data_dir)
    problem = session_problem(data_dir, session_id)
    if problem is None:
        status, problem = state_problem(store, session_id)
        if problem is None and status != "failed":
            words = (status or "not_uploaded").replace("_", " ")
            problem = f"Session {session_id} has not failed (it is {words})."
    if problem:
        return fail(problem, EXIT_USAGE)
    owned = qs.take_or_find_owner(data_dir)
    if owned.lock is None:
        return qs.hand_off_one(data_dir, "retry", session_id, "queued again in the running upload queue")
    try:
        config, problem = load_valid_config(data_dir)
        if config is None:
            return fail(problem or "The upload settings are not valid.", EXIT_USAGE)
        try:
            mark_pending(data_dir, store, session_id, config, reset_retries=True)
        except OSError as exc:
            return fail(disk_sentence(exc, f"session {session_id} could not be queued again"),
                        EXIT_FAILED)
    finally:
        owned.lock.release()
    print(f"{session_id}: {QUEUED_HINT}")
    return EXIT_OK
