"""`sessionrec upload ID... | --all-not-uploaded [--wait]`: put sessions in the upload queue
(DESIGN §7). `--all-not-uploaded` takes every exported, undamaged session never queued.

- Another process owns the queue (the window, a `queue --wait`): the ids are handed to it;
  with --wait this process then follows their state files until they end.
- Nobody owns it and no --wait: the sessions are marked `pending` on disk for the next owner.
- Nobody owns it and --wait: this process becomes the owner, restores the queue and runs it
  until these sessions end. If an owner it was following stops first, it takes over.
Exit 0 when all are uploaded, 1 when one failed or was cancelled, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, disk_sentence, fail

if TYPE_CHECKING:
    from app.commands.queue_support import ProgressPrinter
    from app.upload.config import UploadConfig
    from app.upload.queue.lock import QueueLock

QUEUED_HINT = "queued; run `sessionrec queue --wait` or open the app to upload"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_ids", nargs="*", metavar="ID")
    parser.add_argument("--all-not-uploaded", action="store_true",
                        help="every exported session that was never uploaded")
    parser.add_argument("--wait", action="store_true", help="run the queue until these finish")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.commands import queue_support as qs
    from app.logs import setup_logging
    from app.upload.queue.checks import check_for_queue, load_valid_config, state_problem
    from app.upload.queue.handoff import HandOffError
    from app.upload.queue.ops import mark_pending
    from app.upload.session.state_store import UploadStateStore

    if args.wait:
        from app.upload.s3.credentials import warm_up_in_background

        warm_up_in_background()
    setup_logging(ctx.data_dir)
    data_dir = ctx.data_dir
    if args.all_not_uploaded and args.session_ids:
        return fail("Give session ids or --all-not-uploaded, not both.", EXIT_USAGE)
    if args.all_not_uploaded:
        from app.commands.bulk import all_with_status, apply_to_many

        ids = all_with_status(data_dir, "not_uploaded")
        if not ids:
            print("Every exported session is uploaded or queued already.")
            return EXIT_OK
        if not args.wait:
            return apply_to_many(data_dir, "upload", ids)
    else:
        ids = list(dict.fromkeys(args.session_ids))
    if not ids:
        return fail("Give the ids of the sessions to upload, or --all-not-uploaded.", EXIT_USAGE)
    store = UploadStateStore(data_dir)
    out = qs.ProgressPrinter(sys.stdout)

    # Validate everything first: bad input changes nothing.
    already_done = [i for i in ids if state_problem(store, i)[0] == "done"]
    problems: list[str] = []
    checked: dict[str, UploadConfig] = {}  # the settings each session was checked against
    settings = load_valid_config(data_dir)  # once for every id
    for session_id in ids:
        if session_id in already_done:
            continue
        config, problem = check_for_queue(data_dir, store, session_id, lambda _: settings)
        if problem or config is None:
            problems.append(problem or "The upload settings are not valid.")
        else:
            checked[session_id] = config
    if problems:
        for sentence in problems[1:]:
            print(f"sessionrec: {sentence}", file=sys.stderr)
        return fail(problems[0], EXIT_USAGE)
    for session_id in already_done:
        print(f"{session_id}: already uploaded")
    todo = [i for i in ids if i not in already_done]
    if not todo:
        return EXIT_OK

    owned = qs.take_or_find_owner(data_dir)
    if owned.lock is None:
        try:
            answers = qs.hand_off(data_dir, "upload", todo)
        except HandOffError as exc:
            return fail(str(exc), EXIT_FAILED)
        refused = [s for s in answers.values() if s]
        if refused:
            return fail(refused[0], EXIT_USAGE)
        who = f"process {owned.pid}" if owned.pid else "another process"
        if not args.wait:
            for session_id in todo:
                print(f"{session_id}: queued in the upload queue of {who}")
            return EXIT_OK
        followed = qs.wait_on_disk(data_dir, todo, out)
        if followed.lock is None:
            return _report(data_dir, followed.final, followed.sentences)
        # The owner went away before these ended: this process runs the rest itself.
        rest = [i for i in todo if i not in followed.final]
        print(f"sessionrec: {who} stopped before the upload ended; continuing here.",
              file=sys.stderr)
        final, sentences = dict(followed.final), dict(followed.sentences)
        code, more, more_sentences = _run_owned(data_dir, followed.lock, rest, out, restore=True)
        if code is not None:
            return code
        final.update(more)
        sentences.update(more_sentences)
        return _report(data_dir, final, sentences)

    if not args.wait:
        try:
            for session_id in todo:
                try:
                    mark_pending(data_dir, store, session_id, checked[session_id],
                                 reset_retries=True)
                except OSError as exc:
                    return fail(disk_sentence(exc, f"session {session_id} could not be queued"),
                                EXIT_FAILED)
                print(f"{session_id}: {QUEUED_HINT}")
        finally:
            owned.lock.release()
        return EXIT_OK

    code, final, sentences = _run_owned(data_dir, owned.lock, todo, out, restore=True,
                                        checked=checked)
    if code is not None:
        return code
    return _report(data_dir, final, sentences)


def _run_owned(data_dir: Path, lock: QueueLock, todo: list[str], out: ProgressPrinter,
               restore: bool, checked: dict[str, UploadConfig] | None = None
               ) -> tuple[int | None, dict[str, str], dict[str, str]]:
    """Own the queue until `todo` ended: (exit code if it ended early, final statuses, sentences).

    `checked`: the settings each session already passed the enqueue checks with."""
    from app.commands.queue_runner import QueueRunner
    from app.upload.queue.thread_host import ThreadQueueHost
    from app.upload.records.outbox import settle_records

    host = ThreadQueueHost(data_dir, lock)
    runner = QueueRunner(host, todo, out)
    for session_id in todo:  # posted before start: handled right after the restore
        refusal = host.queue.enqueue(session_id, checked=(checked or {}).get(session_id))
        if refusal:
            host.close()
            return fail(refusal, EXIT_USAGE), {}, {}
    host.start(restore=restore)
    runner.run()
    settle_records(data_dir)
    if runner.interrupted:
        return fail("Interrupted; the upload continues at the next start.", EXIT_FAILED), {}, {}
    return None, runner.final, runner.failures


def _report(data_dir: Path, final: dict[str, str], sentences: dict[str, str]) -> int:
    from app.commands.queue_support import failure_sentence

    bad = [(i, s) for i, s in final.items() if s != "done"]
    if not bad:
        return EXIT_OK
    for session_id, status in bad[1:]:
        print(f"sessionrec: {failure_sentence(data_dir, session_id, status, sentences)}",
              file=sys.stderr)
    return fail(failure_sentence(data_dir, bad[0][0], bad[0][1], sentences), EXIT_FAILED)
