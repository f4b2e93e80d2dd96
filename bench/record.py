"""Recording cost on Xvfb 1920x1080: for 10 and 30 fps over 30 s (by default), prints achieved
fps, dropped frames, CPU % of one core used by the recording process, MB per minute of video, and
peak RSS, against the goals (30 fps: <= 1 % drops and <= 50 % of a core; 10 fps: <= 15 %).

The screen is not static: tests/recorder/animator.py moves a 240x160 block and paints 20 random
rectangles 30 times a second (x264 makes a static screen almost free). Input listeners run too.
Each rate runs in a fresh child process so its CPU time and peak RSS are its own; CPU is counted
from start() to the end of stop() (capture, encode, actions, screenshots, video finalize),
export excluded (it is reported separately). The machine's load average is printed, since other
work on the same cores inflates the figures.

    python bench/record.py [--seconds 30] [--fps 10 30] [--rects 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GOALS = {10: (None, 15.0), 30: (1.0, 50.0)}  # fps -> (max drop %, max CPU % of a core)


def child(fps: int, seconds: float) -> None:
    from app.paths import ensure_data_dir
    from app.recorder.session_recorder import RecorderSettings, SessionRecorder

    data_dir = ensure_data_dir(Path(tempfile.mkdtemp(prefix="bench-record-")))
    recorder = SessionRecorder(data_dir, RecorderSettings(fps=fps, screenshot_every_s=5))
    cpu0, wall0 = time.process_time(), time.monotonic()
    recorder.start()
    time.sleep(seconds)
    meta = recorder.stop()
    cpu1, wall1 = time.process_time(), time.monotonic()
    export_t0 = time.monotonic()
    meta = recorder.export()
    export_s = time.monotonic() - export_t0
    recorder.close()
    assert recorder.paths is not None
    video = recorder.paths.root / "video" / "screen.mp4"
    print(json.dumps({
        "fps": fps,
        "frames": meta.frame_count,
        "dropped": meta.dropped_frames,
        "duration_s": meta.duration_ms / 1000,
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "video_mb": video.stat().st_size / 1e6,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "export_s": export_s,
        "error": meta.error,
    }))


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        return proc, ":" + reader.readline().strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--fps", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--rects", type=int, default=20)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seconds)
        return

    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO))
    animator = subprocess.Popen([sys.executable, "-m", "tests.recorder.animator", "--rects",
                                 str(args.rects)], cwd=REPO, env=env)
    try:
        time.sleep(1)
        print(f"Xvfb 1920x1080 on {display}; animator: moving block + {args.rects} random "
              f"rects at 30 Hz; {args.seconds:g} s per rate; {os.cpu_count()} cores")
        header = (f"{'fps':>4} {'achieved':>9} {'dropped':>8} {'cpu %core':>10} {'MB/min':>7} "
                  f"{'peak RSS':>9} {'export':>7}  {'load avg':>8}  goal")
        print(header)
        for fps in args.fps:
            load_before = os.getloadavg()[0]
            out = subprocess.run([sys.executable, __file__, "--child", str(fps), "--seconds",
                                  str(args.seconds)], env=env, capture_output=True, text=True,
                                 check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            achieved = r["frames"] / r["duration_s"]
            wanted = r["frames"] + r["dropped"]
            drop_pct = 100 * r["dropped"] / wanted if wanted else 0.0
            mb_min = r["video_mb"] / (r["duration_s"] / 60)
            max_drop, max_cpu = GOALS.get(fps, (None, None))
            verdict = []
            if max_drop is not None:
                verdict.append(f"drops {drop_pct:.2f}% {'<=' if drop_pct <= max_drop else '>'} {max_drop}%")
            if max_cpu is not None:
                verdict.append(f"cpu {'<=' if r['cpu_pct'] <= max_cpu else '>'} {max_cpu}%")
            print(f"{fps:>4} {achieved:>9.2f} {r['dropped']:>8} {r['cpu_pct']:>9.1f}% {mb_min:>7.2f} "
                  f"{r['rss_mb']:>7.0f}MB {r['export_s']:>6.2f}s  {load_before:>8.2f}  "
                  f"{'; '.join(verdict)}" + (f"  ERROR: {r['error']}" if r["error"] else ""))
    finally:
        animator.terminate()
        animator.wait(10)
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    main()
