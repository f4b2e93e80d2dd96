"""Recording cost against ffmpeg on the same busy 1920x1080 Xvfb screen, in one run.

For each frame rate (10 and 30 by default) it records S seconds with sessionrec and S seconds
with `ffmpeg -f x11grab -c:v libx264 -preset ultrafast` (the reference: ffmpeg's defaults, which
for x11grab's bgr0 input means yuv444p and a keyframe every 250 frames), then S seconds with the
same ffmpeg line plus `-pix_fmt yuv420p` (what sessionrec encodes, so the size of like for like
is visible too). It prints, per contender: frames against the expected count, MB of video per
minute, CPU % of one core, peak RSS, and the ratios sessionrec / ffmpeg.

Goals: MB/min <= 1.05x ffmpeg's, CPU <= 1.2x ffmpeg's, peak RSS <= 150 MiB, frames >= 0.99
of expected.

The screen: tests/recorder/animator.py moves a 240x160 block and paints N random rectangles
30 times a second (x264 makes a static screen almost free), running through all contenders.
How each figure is taken:
- sessionrec runs in a fresh child process (SessionRecorder, input listeners on, a screenshot
  every 5 s). CPU is the child's CPU time from start() to the end of stop() (capture, encode,
  actions, screenshots, finalizing the video) divided by that wall time; the zip export is
  timed separately. Peak RSS is the child's whole life (getrusage of the child).
- ffmpeg runs with `-t S`; CPU is its whole process (start-up included, so a little against
  ffmpeg) over S; peak RSS from wait4.
- MB/min = file size / video duration; frames are counted by demuxing (PyAV).
The machine has 2 cores shared with other work: absolute figures move with the load (the load
average is printed); the ratios within one run are what count. `--rounds 2` repeats the set in
the opposite order.

    python bench/record.py [--seconds 20] [--fps 10 30] [--rects 20] [--rounds 1]
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
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WIDTH, HEIGHT = 1920, 1080
MIB = 1024 * 1024


@dataclass
class Result:
    name: str
    fps: int
    frames: int
    expected: float
    seconds: float
    video_bytes: int
    cpu_pct: float
    rss_mib: float
    note: str = ""

    @property
    def mb_per_min(self) -> float:
        return self.video_bytes / 1e6 / (self.seconds / 60) if self.seconds else 0.0


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
        "frames": meta.frame_count,
        "dropped": meta.dropped_frames,
        "duration_s": meta.duration_ms / 1000,
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "video_bytes": video.stat().st_size,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "export_s": export_s,
        "error": meta.error,
    }))


def run_sessionrec(env: dict[str, str], fps: int, seconds: float) -> Result:
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(fps), "--seconds",
                             str(seconds)], env=env, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"the sessionrec child failed (exit {proc.returncode})")
    r = json.loads(out.strip().splitlines()[-1])
    note = f"{r['dropped']} dropped, export {r['export_s']:.2f} s"
    if r["error"]:
        note += f", ERROR: {r['error']}"
    return Result("sessionrec", fps, r["frames"], fps * r["duration_s"], r["duration_s"],
                  r["video_bytes"], r["cpu_pct"], r["rss_mib"], note)


def count_frames(path: Path) -> tuple[int, float]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.pts is not None and p.size]
        assert stream.time_base is not None
        span = float((max(pts) - min(pts)) * stream.time_base) if pts else 0.0
    return len(pts), span


def run_ffmpeg(display: str, fps: int, seconds: float, pix_fmt: str | None) -> Result:
    out = Path(tempfile.mkdtemp(prefix="bench-ffmpeg-")) / "screen.mp4"
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "x11grab",
           "-framerate", str(fps), "-video_size", f"{WIDTH}x{HEIGHT}", "-i", display,
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast"]
    if pix_fmt:
        cmd += ["-pix_fmt", pix_fmt]
    proc = subprocess.Popen([*cmd, "-y", str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"ffmpeg failed (status {status})")
    frames, span = count_frames(out)
    duration = span + 1 / fps
    cpu = usage.ru_utime + usage.ru_stime
    name = f"ffmpeg {pix_fmt or 'default'}"
    return Result(name, fps, frames, fps * seconds, duration, out.stat().st_size,
                  100 * cpu / seconds, usage.ru_maxrss / 1024)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        return proc, ":" + reader.readline().strip()


def show(result: Result, reference: Result | None) -> None:
    ratio = ""
    if reference is not None:
        ratio = (f"  size {result.mb_per_min / reference.mb_per_min:.2f}x"
                 f"  cpu {result.cpu_pct / reference.cpu_pct:.2f}x"
                 f"  rss {result.rss_mib / reference.rss_mib:.2f}x")
    share = result.frames / result.expected if result.expected else 0.0
    print(f"{result.fps:>4} {result.name:<18} {result.frames:>6} {share:>6.3f} "
          f"{result.mb_per_min:>7.2f} {result.cpu_pct:>8.1f}% {result.rss_mib:>7.0f} MiB "
          f"{os.getloadavg()[0]:>5.2f}{ratio}  {result.note}")


def verdict(ours: Result, ref: Result) -> str:
    checks = [
        ("MB/min", ours.mb_per_min / ref.mb_per_min, 1.05, "x ffmpeg"),
        ("CPU", ours.cpu_pct / ref.cpu_pct, 1.2, "x ffmpeg"),
        ("peak RSS", ours.rss_mib, 150.0, " MiB"),
        ("frames", ours.frames / ours.expected if ours.expected else 0.0, 0.99, " of expected"),
    ]
    parts = []
    for name, value, goal, unit in checks:
        ok = value >= goal if name == "frames" else value <= goal
        parts.append(f"{name} {value:.2f}{unit} ({'meets' if ok else 'misses'} "
                     f"{'>=' if name == 'frames' else '<='} {goal:g})")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--fps", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--rects", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seconds)
        return

    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO))
    env.pop("QT_QPA_PLATFORM", None)
    animator = subprocess.Popen([sys.executable, "-m", "tests.recorder.animator", "--rects",
                                 str(args.rects)], cwd=REPO, env=env)
    summary: list[str] = []
    try:
        time.sleep(1)
        print(f"Xvfb {WIDTH}x{HEIGHT} on {display}; animator: moving block + {args.rects} random "
              f"rects at 30 Hz; {args.seconds:g} s per contender; {os.cpu_count()} cores")
        print(f"{'fps':>4} {'contender':<18} {'frames':>6} {'share':>6} {'MB/min':>7} "
              f"{'cpu %core':>9} {'peak RSS':>11} {'load':>5}  ratios vs ffmpeg default")
        for round_number in range(args.rounds):
            for fps in args.fps:
                contenders: dict[str, Callable[[], Result]] = {
                    "ref": partial(run_ffmpeg, display, fps, args.seconds, None),
                    "ref420": partial(run_ffmpeg, display, fps, args.seconds, "yuv420p"),
                    "ours": partial(run_sessionrec, env, fps, args.seconds),
                }
                order = ["ref", "ref420", "ours"]
                if round_number % 2:
                    order.reverse()
                results = {name: contenders[name]() for name in order}
                show(results["ref"], None)
                show(results["ref420"], results["ref"])
                show(results["ours"], results["ref"])
                summary.append(f"{fps} fps: " + verdict(results["ours"], results["ref"])
                               + f"; size vs ffmpeg yuv420p "
                               f"{results['ours'].mb_per_min / results['ref420'].mb_per_min:.2f}x")
        print()
        for line in summary:
            print(line)
    finally:
        animator.terminate()
        animator.wait(10)
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    main()
