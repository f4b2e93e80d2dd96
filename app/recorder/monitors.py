"""The screen's monitors, as the recorder and the Recording view offer them.

mss lists `monitors[0]` = the whole virtual desktop, then one entry per monitor (RandR 1.5
monitors on X, with the connector as `output` and the EDID model as `name` when known). A monitor
is chosen by its key: "1", "2", ... or "all".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models import ScreenRect

ALL = "all"


@dataclass(frozen=True)
class Monitor:
    key: str  # "1", "2", ... or "all"
    name: str  # "DP-1 DELL U2720Q", "screen", "Monitor 2", "All monitors"
    rect: ScreenRect
    primary: bool = False

    @property
    def label(self) -> str:
        size = f"{self.rect.width}×{self.rect.height}"
        if self.key == ALL:
            return f"All monitors — {size}"
        primary = ", primary" if self.primary else ""
        return f"{self.key}: {self.name} — {size}{primary}"

    @property
    def where(self) -> str:
        return (f"{self.rect.width}×{self.rect.height} pixels, top left corner at "
                f"{self.rect.x},{self.rect.y}")


def monitors_from_mss(entries: list[dict[str, Any]]) -> list[Monitor]:
    """The choices for mss's monitor list: each monitor, then "all" (the virtual desktop)."""
    if not entries:
        return []
    found = []
    for number, entry in enumerate(entries[1:], start=1):
        parts = [str(entry[k]) for k in ("output", "name") if entry.get(k)]
        found.append(Monitor(str(number), " ".join(parts) or f"Monitor {number}",
                             _rect(entry), bool(entry.get("is_primary"))))
    found.append(Monitor(ALL, "All monitors", _rect(entries[0])))
    return found


def list_monitors() -> list[Monitor]:
    """Ask the screen (an X round trip or two); raises on no screen."""
    from app.recorder.capture import open_mss

    with open_mss() as grabber:
        return monitors_from_mss(list(grabber.monitors))


def find(monitors: list[Monitor], key: str) -> Monitor | None:
    return next((m for m in monitors if m.key == key), None)


def _rect(entry: dict[str, Any]) -> ScreenRect:
    return ScreenRect(x=int(entry["left"]), y=int(entry["top"]),
                      width=int(entry["width"]), height=int(entry["height"]))
