"""Files shipped inside the `app` package (icons), found with importlib.resources.

Nothing is read relative to a source checkout, so a wheel or pipx install carries everything the
app loads. Qt wants file names, so each file is given as a path; for a package imported from a
zip file `as_file` extracts a copy, kept until the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

ICON_FOLDER = ("resources", "icons")

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _package_folder(parts: tuple[str, ...]) -> Traversable:
    folder = resources.files("app")
    for part in parts:
        folder = folder / part
    return folder


def icon_names() -> list[str]:
    """Names of the icons the package carries (file names without `.svg`), sorted."""
    folder = _package_folder(ICON_FOLDER)
    if not folder.is_dir():
        return []
    return sorted(entry.name.removesuffix(".svg") for entry in folder.iterdir()
                  if entry.name.endswith(".svg") and entry.is_file())


def icon_bytes(name: str) -> bytes | None:
    """The SVG of icon `name`, or None when the package has no such icon."""
    entry = _package_folder(ICON_FOLDER) / f"{name}.svg"
    return entry.read_bytes() if entry.is_file() else None


def icon_path(name: str) -> Path | None:
    """A file holding the SVG of icon `name`, or None when the package has no such icon."""
    entry = _package_folder(ICON_FOLDER) / f"{name}.svg"
    if not entry.is_file():
        return None
    if isinstance(entry, Path):
        return entry
    return _extracted.enter_context(resources.as_file(entry))
