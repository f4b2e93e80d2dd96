from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.widgets.icons import ICON_DIR, icon

APP = Path(__file__).resolve().parents[2] / "app"


def test_every_icon_the_code_names_exists(qtbot: QtBot) -> None:
    names = set()
    for path in APP.rglob("*.py"):
        names |= set(re.findall(r'\bicon\("([a-z-]+)"\)', path.read_text()))
    assert names, "no icon(...) calls found; the pattern is wrong"
    for name in sorted(names):
        assert (ICON_DIR / f"{name}.svg").is_file(), name
        assert not icon(name).isNull(), name


def test_a_missing_icon_is_empty_not_a_crash(qtbot: QtBot) -> None:
    assert icon("no-such-icon").isNull()


def test_every_icon_file_loads(qtbot: QtBot) -> None:
    files = sorted(ICON_DIR.glob("*.svg"))
    assert files
    for path in files:
        assert not icon(path.stem).isNull(), path.name
        assert not icon(path.stem).pixmap(32, 32).isNull(), path.name
