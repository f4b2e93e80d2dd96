"""Icons from resources/icons (SVG, so they stay sharp at any device pixel ratio)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)

ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"


@cache
def icon(name: str) -> QIcon:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        # A missing picture must never stop the app (e.g. an install without resources/):
        # the button keeps its text.
        log.warning("icon %s is missing (%s)", name, path)
        return QIcon()
    return QIcon(str(path))
