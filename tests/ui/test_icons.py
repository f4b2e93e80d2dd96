from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.package_files import icon_names, icon_path
from app.widgets.icons import icon

APP = Path(__file__).resolve().parents[2] / "app"


def names_the_code_uses() -> set[str]:
    names: set[str] = set()
    for path in APP.rglob("*.py"):
        names |= set(re.findall(r'\bicon\("([a-z-]+)"\)', path.read_text()))
    return names


def test_every_icon_the_code_names_exists(qtbot: QtBot) -> None:
    names = names_the_code_uses()
    assert names, "no icon(...) calls found; the pattern is wrong"
    assert names <= set(icon_names())
    for name in sorted(names):
        assert not icon(name).isNull(), name


def test_icons_come_from_inside_the_package(qtbot: QtBot) -> None:
    for name in icon_names():
        path = icon_path(name)
        assert path is not None and path.is_relative_to(APP), (name, path)


def test_a_missing_icon_is_empty_not_a_crash(qtbot: QtBot) -> None:
    assert icon_path("no-such-icon") is None
    assert icon("no-such-icon").isNull()


def test_every_icon_file_loads(qtbot: QtBot) -> None:
    names = icon_names()
    assert len(names) >= 10
    for name in names:
        assert not icon(name).isNull(), name
        assert not icon(name).pixmap(32, 32).isNull(), name
