"""A small X client that keeps the screen changing, so recordings and benches do not see a static
desktop (x264 makes a static screen almost free). Uses python-xlib, which pynput already needs.

    python -m tests.recorder.animator [--rate HZ] [--rects N] [--seconds S]

Each tick moves a 240x160 block across a full-screen window and paints N random rectangles.
"""

from __future__ import annotations

import argparse
import random
import time


def animate(rate: float, rects: int, seconds: float) -> None:
    from Xlib import display  # type: ignore[import-untyped]

    disp = display.Display()
    screen = disp.screen()
    width, height = screen.width_in_pixels, screen.height_in_pixels
    window = screen.root.create_window(0, 0, width, height, 0, screen.root_depth,
                                       background_pixel=screen.white_pixel,
                                       override_redirect=True)
    window.map()
    gc = window.create_gc(foreground=screen.black_pixel)
    rng = random.Random(1)
    start = time.monotonic()
    tick = 0
    while seconds <= 0 or time.monotonic() - start < seconds:
        x = (tick * 12) % max(1, width - 240)
        y = (tick * 5) % max(1, height - 160)
        gc.change(foreground=screen.white_pixel)
        for _ in range(rects):
            gc.change(foreground=rng.randrange(0xFFFFFF))
            window.fill_rectangle(gc, rng.randrange(width), rng.randrange(height),
                                  rng.randrange(8, 120), rng.randrange(8, 60))
        gc.change(foreground=(tick * 2654435761) & 0xFFFFFF)
        window.fill_rectangle(gc, x, y, 240, 160)
        disp.sync()
        tick += 1
        time.sleep(max(0.0, start + tick / rate - time.monotonic()))
    window.destroy()
    disp.sync()



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--rects", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0)
    args = parser.parse_args()
    animate(args.rate, args.rects, args.seconds)


if __name__ == "__main__":
    main()
