"""`sessionrec record`: record headless, export the zip, print the session id."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail

PROGRESS_EVERY_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, required=True, metavar="S",
                        help="seconds to record")
    parser.add_argument("--fps", type=int, default=10, metavar="N", help="frames per second (1-30)")
    parser.add_argument("--screenshot-every", type=float, default=5.0, metavar="S",
                        help="a screenshot every S seconds (0 = off)")
    parser.add_argument("--mask-keys", action="store_true", help="write typed characters as '*'")
    parser.add_argument("--monitor", default="1", metavar="N|all",
                        help="monitor number, or 'all' for the whole virtual desktop")
    parser.add_argument("--max-width", type=int, default=None, metavar="PX",
                        help="scale the video down to at most this width")
    parser.add_argument("--title", default=None, metavar="TEXT",
                        help="a title for the session (at most 200 characters)")


def _say(text: str) -> None:
    print(f"sessionrec: {text}", file=sys.stderr, flush=True)


def run_recovery(data_dir: Path) -> None:
    """Finalize and export interrupted sessions (queued for upload when autoUpload is on);
    tells stderr what it did."""
    from app.commands.bulk import auto_upload
    from app.recorder.recovery import recover_interrupted

    exported = []
    for result in recover_interrupted(data_dir):
        _say(f"session {result.session_id}: {result.sentence}")
        if result.exported:
            exported.append(result.session_id)
    auto_upload(data_dir, exported, _say)


# Documented bounds of the command line (README, docs/FORMATS.md).
MAX_DURATION_S = 24 * 3600.0
MIN_SCREENSHOT_EVERY_S, MAX_SCREENSHOT_EVERY_S = 0.5, 3600.0
MAX_WIDTH_PX = 16384
MAX_MONITOR = 64


def _validate(args: argparse.Namespace) -> str | None:
    # float() accepts "inf" and "nan"; every comparison below is written so they fail it.
    if not 0 < args.duration <= MAX_DURATION_S:
        return f"--duration must be more than 0 and at most {MAX_DURATION_S:.0f} seconds (24 hours)."
    if not 1 <= args.fps <= 30:
        return "--fps must be between 1 and 30."
    every = args.screenshot_every
    if every != 0 and not MIN_SCREENSHOT_EVERY_S <= every <= MAX_SCREENSHOT_EVERY_S:
        return (f"--screenshot-every must be 0 (off) or between {MIN_SCREENSHOT_EVERY_S:g} and "
                f"{MAX_SCREENSHOT_EVERY_S:.0f} seconds.")
    if args.monitor != "all" and not (str(args.monitor).isdigit() and len(str(args.monitor)) <= 3
                                      and 1 <= int(args.monitor) <= MAX_MONITOR):
        return f"--monitor must be a monitor number (1 to {MAX_MONITOR}) or 'all'."
    if args.max_width is not None and not 16 <= args.max_width <= MAX_WIDTH_PX:
        return f"--max-width must be between 16 and {MAX_WIDTH_PX} pixels."
    if args.title is not None:
        from app.session_texts import TextProblem, clean_title

        try:
            clean_title(args.title)
        except TextProblem as exc:
            return f"--title: {exc}"
    return None


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    problem = _validate(args)
    if problem:
        return fail(problem, EXIT_USAGE)
    from app.logs import setup_logging
    from app.recorder.archive import ExportError
    from app.recorder.session_recorder import RecorderError, RecorderSettings, SessionRecorder
    from app.session_texts import clean_title

    # Log records (a writer's traceback on a full disk, the recorder's own error line) go to the
    # log file; stderr gets each sentence once, from here.
    setup_logging(ctx.data_dir)
    run_recovery(ctx.data_dir)
    settings = RecorderSettings(
        fps=args.fps, screenshot_every_s=args.screenshot_every, mask_keys=args.mask_keys,
        monitor="all" if args.monitor == "all" else int(args.monitor), max_width=args.max_width,
        title=clean_title(args.title) if args.title is not None else None,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    recorder = SessionRecorder(ctx.data_dir, settings)
    try:
        try:
            session_id = recorder.start()
        except RecorderError as exc:
            return fail(str(exc), EXIT_FAILED)
        _say(f"recording session {session_id} for {args.duration:g} s "
             f"at {args.fps} fps (Ctrl-C stops early)")
        deadline = time.monotonic() + args.duration
        next_report = time.monotonic() + PROGRESS_EVERY_S
        while not stop.is_set() and not recorder.failed.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(min(remaining, 0.2))
            if time.monotonic() >= next_report:
                status = recorder.status()
                _say(f"{status.t_ms / 1000:.0f} s: {status.frame_count} frames, "
                     f"{status.dropped_frames} dropped, {status.action_count} actions, "
                     f"{status.screenshot_count} screenshots")
                next_report += PROGRESS_EVERY_S
        meta = recorder.stop()
        _say(f"stopped: {meta.frame_count} frames ({meta.dropped_frames} dropped), "
             f"{meta.action_count} actions, {meta.screenshot_count} screenshots, "
             f"{meta.duration_ms / 1000:.1f} s")
        code = EXIT_OK
        if meta.error:
            code = fail(meta.error, EXIT_FAILED)
        exported = False
        try:
            meta = recorder.export()
            exported = True
            _say(f"exported {recorder.paths.zip if recorder.paths else 'session.zip'} "
                 f"({(meta.file_size_bytes or 0) / 1e6:.1f} MB)")
        except ExportError as exc:
            code = fail(str(exc), EXIT_FAILED)
        recorder.close()  # the session lock goes before the upload queue may read the zip
        if exported:
            from app.commands.bulk import auto_upload

            auto_upload(ctx.data_dir, [session_id], _say)
        print(session_id, flush=True)
        return code
    finally:
        recorder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
