"""`sessionrec upload ID... [--wait]`.

For now every upload is direct (one session after another in this process, each attempt
once); the serial queue with backoff replaces this with issue 5.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_ids", nargs="+", metavar="ID")
    parser.add_argument("--wait", action="store_true", help="run the queue until these finish")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import signal

    from app.format import human_rate, human_size
    from app.logs import setup_logging
    from app.sessions import InvalidSessionId, session_paths
    from app.upload.config import load_config, validate_config
    from app.upload.direct import run_engine
    from app.upload.errors import UploadCancelled, UploadError
    from app.upload.progress import Progress
    from app.upload.state_store import UploadStateStore

    setup_logging(ctx.data_dir)
    if not args.wait:
        return fail("only `upload ID --wait` is available in this build (the queue comes next).",
                    EXIT_USAGE)
    loaded = load_config(ctx.data_dir)
    if loaded.value is None:
        return fail(loaded.problem or "there are no S3 settings yet; use `sessionrec config set`.",
                    EXIT_USAGE)
    problems = validate_config(loaded.value)
    if problems:
        field, sentence = next(iter(problems.items()))
        return fail(f"{field}: {sentence}", EXIT_USAGE)
    for session_id in args.session_ids:
        try:
            if not session_paths(ctx.data_dir, session_id).root.is_dir():
                return fail(f"there is no session '{session_id}'.", EXIT_USAGE)
        except InvalidSessionId as exc:
            return fail(str(exc), EXIT_USAGE)
    cancel = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: cancel.set())
    store = UploadStateStore(ctx.data_dir)
    last_print = [0.0]

    def on_progress(progress: Progress) -> None:
        now = time.monotonic()
        if now - last_print[0] >= 1.0 or progress.bytes_uploaded >= progress.total_bytes:
            last_print[0] = now
            print(f"  {progress.percent:5.1f} %  {human_size(progress.bytes_uploaded)} of "
                  f"{human_size(progress.total_bytes)}  {human_rate(progress.bytes_per_sec)}",
                  file=sys.stderr, flush=True)

    result = EXIT_OK
    for session_id in args.session_ids:
        print(f"Uploading {session_id} ...", file=sys.stderr, flush=True)
        try:
            state = run_engine(ctx.data_dir, session_id, loaded.value, store, on_progress, cancel)
        except UploadCancelled:
            # Stopped by a signal: the multipart upload stays for resume.
            store.set_status(session_id, "pending")
            return fail("upload stopped; run the same command again to resume.", EXIT_FAILED)
        except UploadError as error:
            print(f"sessionrec: {session_id}: {error.sentence}", file=sys.stderr)
            result = EXIT_FAILED
            continue
        print(f"{session_id} uploaded to s3://{loaded.value.bucket}/{state.s3_key}")
    return result
