"""`sessionrec queue --wait`: restore the upload queue from disk and run it until nothing is
pending or waiting out a backoff. Exit 0 when every session it ran was uploaded, 1 when one
failed (reason on stderr), 2 when another process already owns the queue."""

from __future__ import annotations

import argparse
import sys

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="run until nothing is pending or waiting to retry")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.commands import queue_support as qs
    from app.commands.queue_runner import QueueRunner
    from app.logs import setup_logging
    from app.upload.queue.restore import plan_restore, read_stored_sessions
    from app.upload.queue.thread_host import ThreadQueueHost
    from app.upload.records.outbox import settle_records
    from app.upload.session.state_store import UploadStateStore

    setup_logging(ctx.data_dir)
    if not args.wait:
        # Without --wait there is nothing to run: say what a run would pick up.
        waiting = plan_restore(read_stored_sessions(ctx.data_dir, UploadStateStore(ctx.data_dir)))
        for session_id in waiting:
            print(session_id)
        print(f"{len(waiting)} session(s) waiting; run `sessionrec queue --wait` to upload them",
              file=sys.stderr)
        return EXIT_OK
    owned = qs.take_or_find_owner(ctx.data_dir)
    if owned.lock is None:
        who = f"process {owned.pid}" if owned.pid else "another process"
        return fail(f"The upload queue of this data folder is already running in {who}.", EXIT_USAGE)
    host = ThreadQueueHost(ctx.data_dir, owned.lock)
    runner = QueueRunner(host, None, qs.ProgressPrinter(sys.stdout))
    host.start(restore=True)
    runner.run()
    settle_records(ctx.data_dir)
    if runner.interrupted:
        return fail("Interrupted; the queue continues at the next start.", EXIT_FAILED)
    if runner.failures:
        items = list(runner.failures.items())
        for session_id, sentence in items[1:]:
            print(f"sessionrec: session {session_id}: {sentence}", file=sys.stderr)
        return fail(f"Session {items[0][0]} was not uploaded: {items[0][1].rstrip('.')}.", EXIT_FAILED)
    return EXIT_OK
