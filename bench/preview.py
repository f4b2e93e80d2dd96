"""What the Recording view's live preview costs (goal: <= 2 % of one core).

The window records a busy 1920x1080 Xvfb screen (tests/recorder/animator.py) for S seconds
twice, once with the preview and once without, alternating. Measured per run:
- the GUI thread's CPU time (time.thread_time on the GUI thread, sampled around the run): with
  the preview it also wraps, copies and paints the images;
- the preview sampler thread's CPU time (/proc/self/task/<tid>/stat), which shrinks the frames.
The preview's cost is (GUI with - GUI without + sampler) / wall time. Qt runs on the offscreen
platform (software painting, as on a plain X server). The machine's load average is printed.

    python bench/preview.py [--seconds 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def thread_cpu_s(native_id: int) -> float:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(app: object, seconds: float, preview: bool) -> tuple[float, float, int, float]:
    from app.app_shell.recording_controller import RecordingController
    from app.main_window import MainWindow
    from app.paths import ensure_data_dir

    def pump(duration: float) -> None:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            app.processEvents()  # type: ignore[attr-defined]
            time.sleep(0.005)

    data_dir = ensure_data_dir(Path(tempfile.mkdtemp(prefix="bench-preview-")))
    controller = RecordingController(data_dir, fps=10)
    sampler_cpu = [0.0]
    if not preview:
        controller._start_preview = lambda recorder: None  # type: ignore[method-assign]
    window = MainWindow(data_dir, controller)
    window.ask_close = lambda _reason: "quit"
    window.resize(1040, 760)
    window.show()
    window.show_view("recording")
    pump(1.0)
    window.start_recording()
    while controller.state != "recording":
        pump(0.05)
    pump(1.0)
    sampler = controller._preview
    sampler_start = thread_cpu_s(sampler.native_id) if sampler is not None else 0.0
    gui0, wall0 = time.thread_time(), time.monotonic()
    shown0 = window.preview.images_shown
    pump(seconds)
    gui1, wall1 = time.thread_time(), time.monotonic()
    if sampler is not None:
        sampler_cpu[0] = thread_cpu_s(sampler.native_id) - sampler_start
    shown = window.preview.images_shown - shown0
    done: list[int] = []
    controller.exportFinished.connect(lambda *_: done.append(1))
    controller.stop()
    while not done:
        pump(0.05)
    window.close()
    return gui1 - gui0, sampler_cpu[0], shown, wall1 - wall0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from tests.recorder.conftest import start_xvfb

    xvfb, display = start_xvfb(1920, 1080)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    animator = subprocess.Popen([sys.executable, "-m", "tests.recorder.animator"], cwd=REPO,
                                env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        from PySide6.QtWidgets import QApplication

        app = QApplication([])
        print(f"Xvfb 1920x1080, busy screen, recording at 10 fps, {args.seconds:g} s per run, "
              f"window 1040x760; load average {os.getloadavg()[0]:.2f}")
        costs = []
        for round_number in range(args.rounds):
            order = [True, False] if round_number % 2 == 0 else [False, True]
            runs = {flag: one_run(app, args.seconds, flag) for flag in order}
            gui_on, sampler, shown, wall = runs[True]
            gui_off = runs[False][0]
            cost = 100 * (gui_on - gui_off + sampler) / wall
            costs.append(cost)
            print(f"round {round_number + 1}: GUI thread {100 * gui_on / wall:.2f} % with preview, "
                  f"{100 * gui_off / runs[False][3]:.2f} % without; sampler {100 * sampler / wall:.2f} %;"
                  f" {shown} images ({shown / wall:.1f}/s) -> preview costs {cost:.2f} % of a core"
                  f" (load {os.getloadavg()[0]:.2f})")
        print(f"preview cost, median of {len(costs)}: {sorted(costs)[len(costs) // 2]:.2f} % of a "
              f"core (goal <= 2 %)")
    finally:
        animator.terminate()
        animator.wait(10)
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    main()
