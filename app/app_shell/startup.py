"""What the window runs once at start, off the GUI thread: crash recovery and the cleanup
policy, then (after the first list is shown) loading what the first recording and upload need.
Qt-free."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class StartReport:
    """What start-up recovery and cleanup did: sentences to show, sessions newly exported."""

    notes: list[str]
    exported: list[str]


def recover_and_clean(data_dir: Path) -> StartReport:
    """Finish interrupted recordings and apply the cleanup policy."""
    notes: list[str] = []
    exported: list[str] = []
    try:
        from app.recorder.recovery import recover_interrupted

        for result in recover_interrupted(data_dir):
            notes.append(f"Session {result.session_id}: {result.sentence}")
            if result.exported:
                exported.append(result.session_id)
    except Exception as exc:  # recovery must never keep the window from working
        log.exception("crash recovery failed")
        notes.append(f"Crash recovery could not finish: {exc}")
    try:
        from app.retention import RetentionPolicy, apply_cleanup
        from app.upload.config import load_config

        config = load_config(data_dir).value
        if config is not None:
            policy = RetentionPolicy(config.delete_after_upload, config.keep_uploaded)
            removed = apply_cleanup(data_dir, policy)
            if removed:
                notes.append(f"Removed the local files of {len(removed)} uploaded session(s).")
    except Exception:
        log.exception("cleanup failed")
    return StartReport(notes, exported)


def warm_up() -> None:
    """Load what the first recording and the first upload need, before anything is clicked.

    Loading a C extension (PyAV's FFmpeg libraries, Xlib for pynput) holds the GIL for tens
    of milliseconds, and building the first S3 client is ~50 ms of Python: done on the first
    Record or Upload click, either froze the window visibly (bench/gui.py).
    """
    try:
        import av  # noqa: F401
        import mss  # noqa: F401

        from app.recorder import session_recorder  # noqa: F401
        if os.environ.get("DISPLAY"):
            import pynput.keyboard
            import pynput.mouse  # noqa: F401
    except Exception:
        log.exception("preloading the recorder failed")
    try:
        from app.upload.s3.credentials import warm_up as load_s3_models

        load_s3_models()
    except Exception:
        log.exception("loading the S3 models failed")
