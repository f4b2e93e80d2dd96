"""Synthetic 1080p screen recordings for the viewer bench, cached under bench/out/.

Two kinds of screen, painted in place into one BGRA buffer (only what changes is touched):
- `desktop`: a working desktop — windows with text-like lines, a pointer that moves every
  frame, characters typed into an editor, a document that scrolls a few lines every 3 s, and a
  window switch (a large area repainted) every 20 s;
- `busy`: the same, plus a large text page that scrolls every 2 s and a block that moves
  and changes colour every frame (like the recorder bench's animator: the upper end).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from app.models import ScreenRect, SessionMeta
from app.sessions import save_meta, session_paths
from tests.videos import write_frames_log, write_video

W, H = 1920, 1080
OUT = Path(__file__).resolve().parent / "out"


class DesktopPainter:
    def __init__(self, fps: int, busy: bool) -> None:
        self.fps = fps
        self.busy = busy
        rng = np.random.default_rng(7)
        # A tall page of text-like lines (dark strokes on white), scrolled through windows.
        page = np.full((H * 3, 1100), 245, np.uint8)
        for row in range(0, H * 3 - 20, 22):
            length = int(rng.integers(300, 1050))
            strokes = rng.random((12, length)) < 0.45
            page[row + 4:row + 16, 20:20 + length][strokes] = 40
        self.page = page
        self.glyphs = [(rng.random((18, 10)) < 0.5).astype(np.uint8) * 200 for _ in range(40)]
        self.rng = rng
        self.typed = 0
        self._under: tuple[int, int, np.ndarray] | None = None

    def __call__(self, i: int, pixels: np.ndarray) -> None:
        fps = self.fps
        if i == 0 or (i % (20 * fps) == 0):
            self._layout(pixels, (i // (20 * fps)) % 3)
        # Document window: scrolls three lines every 3 s.
        if i % (3 * fps) == 0:
            offset = (i // (3 * fps) * 66) % (H * 2)
            area = self.page[offset:offset + 700]
            pixels[200:900, 700:1800, 0] = area
            pixels[200:900, 700:1800, 1] = area
            pixels[200:900, 700:1800, 2] = area
        # Editor: two characters a second.
        if i % max(1, fps // 2) == 0:
            col, line = self.typed % 40, (self.typed // 40) % 12
            glyph = self.glyphs[self.typed % len(self.glyphs)]
            y, x = 240 + line * 24, 120 + col * 12
            pixels[y:y + 18, x:x + 10, :3] = (255 - glyph)[:, :, None]
            self.typed += 1
        if self.busy:
            if i % (2 * fps) == 0:
                offset = (i // (2 * fps) * 400) % (H * 2)
                area = self.page[offset:offset + 1000, :1000]
                pixels[40:1040, 850:1850, 1] = area
            x = (i * 12) % (W - 240)
            y = (i * 5) % (H - 160)
            pixels[y:y + 160, x:x + 240, :3] = ((i * 37) % 256, (i * 11) % 256, (i * 53) % 256)
        # The pointer: a small arrow that moves every frame (restore what it covered first).
        if self._under is not None:
            py, px, saved = self._under
            pixels[py:py + 20, px:px + 14] = saved
        t = i / fps
        px = int(960 + 700 * np.sin(t / 3.0))
        py = int(540 + 400 * np.sin(t / 2.3))
        self._under = (py, px, pixels[py:py + 20, px:px + 14].copy())
        pixels[py:py + 20, px:px + 14, :3] = 0
        pixels[py + 2:py + 16, px + 2:px + 9, :3] = 255

    def _layout(self, pixels: np.ndarray, variant: int) -> None:
        pixels[:, :, :3] = (110, 80, 40)  # wallpaper (BGR)
        pixels[0:32, :, :3] = 30  # top bar
        colours = [(250, 250, 250), (235, 240, 245), (245, 235, 230)]
        # Editor window on the left, document window on the right; their order changes.
        pixels[180:560, 80:640, :3] = colours[variant]
        pixels[180:210, 80:640, :3] = (200, 120, 60)
        pixels[170:920, 680:1820, :3] = colours[(variant + 1) % 3]
        pixels[170:200, 680:1820, :3] = (90, 90, 90)


def bench_session(data_dir: Path, session_id: str, minutes: float, fps: int, busy: bool,
                  gop_s: float = 10.0) -> Path:
    """A session folder with a `minutes`-long 1080p video (cached: the video is made once)."""
    OUT.mkdir(parents=True, exist_ok=True)
    kind = "busy" if busy else "desktop"
    cached = OUT / f"viewer-{kind}-{minutes:g}min-{fps}fps-gop{gop_s:g}s.mp4"
    times_file = cached.with_suffix(".times.json")
    if not cached.is_file() or not times_file.is_file():
        times = write_video(cached, fps, minutes * 60, (W, H), gop_s=gop_s,
                            paint=DesktopPainter(fps, busy))
        times_file.write_text(json.dumps(times))
    times = json.loads(times_file.read_text())
    paths = session_paths(data_dir, session_id)
    paths.video_dir.mkdir(parents=True, exist_ok=True)
    target = paths.video_dir / "screen.mp4"
    if not target.exists():
        try:
            os.link(cached, target)  # a hard link is a regular file: the trust rule accepts it
        except OSError:
            shutil.copyfile(cached, target)
    write_frames_log(paths, times)
    actions = []
    for k in range(1, int(minutes * 60 / 2)):  # a click and a word every 2 s
        t = k * 2000
        frame = min(len(times) - 1, max(0, (t - times[0]) * fps // 1000))
        actions.append({"t": t, "type": "click", "x": 400 + k % 900, "y": 300, "button": "left",
                        "pressed": True, "frame": frame})
        actions.append({"t": t + 60, "type": "click", "x": 400 + k % 900, "y": 300, "button": "left",
                        "pressed": False, "frame": frame})
        for j, ch in enumerate("ok"):
            actions.append({"t": t + 300 + 80 * j, "type": "key_down", "key": ch, "frame": frame + 3})
    paths.actions.write_text("".join(json.dumps(a) + "\n" for a in actions))
    created = 1_700_000_000_000
    save_meta(paths, SessionMeta(session_id=session_id, created_at=created,
                                 ended_at=created + times[-1] + 100, fps=fps, screen=ScreenRect(0, 0, W, H),
                                 video_ref="video/screen.mp4", frame_count=len(times),
                                 duration_ms=times[-1] + 100, action_count=len(actions)))
    return cached
