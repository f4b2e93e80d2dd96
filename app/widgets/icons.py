"""The app's icons: SVG files inside the package (app/resources/icons), so they stay sharp at any
device pixel ratio and travel with a wheel install."""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtGui import QIcon

from app.package_files import icon_path

log = logging.getLogger(__name__)


@cache
def icon(name: str) -> QIcon:
    path = icon_path(name)
    if path is None:
        # A missing picture must never stop the app: the button keeps its text.
        log.warning("icon %s is missing from the installed package", name)
        return QIcon()
    return QIcon(str(path))
