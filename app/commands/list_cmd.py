"""`sessionrec list [--json]`: finish interrupted recordings, then list every session with its
upload status.

Not read-only: like `record`, it first runs crash recovery, which writes to the data folder
(an interrupted recording is cut to what is complete, finalized and zipped; with autoUpload on
it is queued). Only then are the sessions read and printed."""

from __future__ import annotations

import argparse
import json
import time

from app.commands.context import EXIT_OK, CommandContext
from app.format import human_size, next_try_text
from app.models import SessionListItem
from app.sessions import list_sessions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array of sessions")


def _status_text(item: SessionListItem) -> str:
    if item.upload_status == "uploading" and item.upload_progress is not None:
        return f"uploading {item.upload_progress:.0f}%"
    if item.upload_status == "pending" and item.next_attempt_at:
        wait_s = max(0, round((item.next_attempt_at - time.time() * 1000) / 1000))
        return f"pending (retry in {wait_s}s)" if wait_s else "pending"
    return item.upload_status


def _row(item: SessionListItem) -> str:
    created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item.created_at / 1000))
    size = human_size(item.file_size_bytes) if item.file_size_bytes is not None else "-"
    if item.damaged:
        note = f"DAMAGED: {item.damaged_reason}"
    elif not item.is_exported and item.ended_at is None:
        note = "recording or interrupted"
    elif not item.is_exported:
        note = "not exported"
    elif item.upload_status == "pending" and item.last_upload_error:
        now_ms = int(time.time() * 1000)
        note = next_try_text(item.last_upload_error, item.next_attempt_at, now_ms) or \
            item.last_upload_error
    elif item.upload_status == "failed" and item.multipart_upload_open:
        note = (f"{item.last_upload_error or 'The upload failed.'} The unfinished upload is kept "
                f"for retry; `sessionrec cancel {item.session_id}` removes it.")
    else:
        note = item.last_upload_error or ""
    return f"{item.session_id:<32} {created}  {_status_text(item):<20} {size:>9}  {note}".rstrip()


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Recover (writes: finalizes and exports interrupted recordings), then list."""
    # Quick when there is nothing to recover: one stat of `.exported` per session.
    from app.commands.record import run_recovery
    from app.logs import setup_logging

    setup_logging(ctx.data_dir)  # what recovery logs goes to the log file, not stderr
    run_recovery(ctx.data_dir)
    items = list_sessions(ctx.data_dir)
    if args.json:
        print(json.dumps([item.to_json() for item in items], indent=2))
        return EXIT_OK
    if not items:
        print("No sessions yet. Record one with: sessionrec record --duration 10")
        return EXIT_OK
    print(f"{'SESSION':<32} {'CREATED':<19}  {'STATUS':<20} {'SIZE':>9}  NOTE")
    for item in items:
        print(_row(item))
    return EXIT_OK
