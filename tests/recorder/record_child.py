"""A recorder in its own process, for tests that kill it (-9) at a chosen moment.

    python -m tests.recorder.record_child DATA_DIR [--fps N] [--keyframe-every S] [--no-input]

Prints `session <id>` once recording runs, then records until it is killed (or 60 s pass).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app.recorder.session_recorder import RecorderSettings, SessionRecorder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--keyframe-every", type=float, default=10.0)
    parser.add_argument("--no-input", action="store_true")
    args = parser.parse_args()
    recorder = SessionRecorder(args.data_dir, RecorderSettings(
        fps=args.fps, keyframe_interval_s=args.keyframe_every, screenshot_every_s=0,
        capture_input=not args.no_input))
    session_id = recorder.start()
    print(f"session {session_id}", flush=True)
    time.sleep(60)
    recorder.stop()
    recorder.close()


if __name__ == "__main__":
    main()
