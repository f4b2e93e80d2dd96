"""Time `list_sessions` over 2,000 realistic sessions (goal: <= 0.3 s).

Each session has what the recorder leaves: meta, actions, frames, a video file,
a zip and the exported marker; a third also have an upload-state.json.
Prints cold-ish (first) and warm (median of 5) timings, and the time of a
plain `os.scandir` + two `json.load`s per session as the floor to compare with.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.models import UPLOAD_STATUSES
from app.paths import ensure_data_dir
from app.recorder.recovery import recover_interrupted
from app.sessions import list_sessions
from tests.factories import make_session


def floor_listing(data_dir: Path) -> int:
    count = 0
    for entry in os.scandir(data_dir / "sessions"):
        for name in ("session-meta.json", "upload-state.json"):
            try:
                with open(os.path.join(entry.path, name), "rb") as handle:
                    json.load(handle)
            except FileNotFoundError:
                pass
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = ensure_data_dir(Path(tmp))
        start = time.perf_counter()
        for i in range(args.sessions):
            status = UPLOAD_STATUSES[i % len(UPLOAD_STATUSES)] if i % 3 == 0 else None
            make_session(data_dir, 1_700_000_000_000 + i * 60_000, status=status, actions=50)
        print(f"created {args.sessions} sessions in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        items = list_sessions(data_dir)
        first = time.perf_counter() - start
        assert len(items) == args.sessions
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            list_sessions(data_dir)
            warm.append(time.perf_counter() - start)
        floor = []
        for _ in range(5):
            start = time.perf_counter()
            floor_listing(data_dir)
            floor.append(time.perf_counter() - start)
        scans = []
        for _ in range(5):
            start = time.perf_counter()
            recover_interrupted(data_dir)
            scans.append(time.perf_counter() - start)
        median_warm = statistics.median(warm)
        median_floor = statistics.median(floor)
        print(f"list_sessions first run:   {first * 1000:7.1f} ms")
        print(f"list_sessions warm median: {median_warm * 1000:7.1f} ms  (goal <= 300 ms)")
        print(f"floor (scandir+json.load): {median_floor * 1000:7.1f} ms  "
              f"ratio {median_warm / median_floor:.2f}x")
        # `sessionrec list` first looks for interrupted recordings; with none, this is its cost.
        print(f"recovery scan (nothing to do): {statistics.median(scans) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
