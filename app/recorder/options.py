"""The recording options a person chooses (the Recording view, `sessionrec record`), kept apart
from `RecorderSettings` so the window can hold them without loading the recorder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.recorder.session_recorder import RecorderSettings

MIN_FPS, MAX_FPS = 1, 30
MAX_SCREENSHOT_EVERY_S = 3600.0


@dataclass(frozen=True)
class RecordingOptions:
    fps: int = 10
    monitor: str = "1"  # "1", "2", ... or "all"
    mask_keys: bool = False
    screenshot_every_s: float = 5.0  # 0 = no periodic screenshots

    def settings(self) -> RecorderSettings:
        from app.recorder.session_recorder import RecorderSettings

        monitor: int | str = self.monitor if self.monitor == "all" else int(self.monitor)
        return RecorderSettings(fps=self.fps, screenshot_every_s=self.screenshot_every_s,
                                mask_keys=self.mask_keys, monitor=monitor)


def options_from_stored(fps: object, monitor: object, mask_keys: object,
                        screenshot_every_s: object) -> RecordingOptions:
    """Options from remembered values (strings from an INI file, or anything): a value that is
    missing or out of range falls back to its default, so a bad file never stops recording."""
    default = RecordingOptions()
    chosen_fps = _int(fps, default.fps)
    every = _float(screenshot_every_s, default.screenshot_every_s)
    key = str(monitor) if monitor is not None else default.monitor
    return RecordingOptions(
        fps=chosen_fps if MIN_FPS <= chosen_fps <= MAX_FPS else default.fps,
        monitor=key if key == "all" or (key.isdigit() and int(key) >= 1) else default.monitor,
        mask_keys=_bool(mask_keys, default.mask_keys),
        screenshot_every_s=every if 0 <= every <= MAX_SCREENSHOT_EVERY_S else default.screenshot_every_s,
    )


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _float(value: object, default: float) -> float:
    try:
        result = float(str(value))
    except ValueError:
        return default
    return result if result == result else default  # NaN


def _bool(value: object, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return default
