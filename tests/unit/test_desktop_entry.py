"""The desktop entry's text and paths (app/desktop_entry.py), without writing anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.desktop_entry import DesktopDirs, EntryError, Launcher, entry_text, exec_argument, find_launcher
from tests.install.desktop_files import _unescape, exec_argv


@given(st.lists(st.text(st.characters(blacklist_characters="\n\r\0", blacklist_categories=["Cs"]),
                        max_size=20), min_size=1, max_size=4))
def test_exec_quoting_round_trips(argv: list[str]) -> None:
    exec_value = " ".join(exec_argument(arg) for arg in argv)
    # The file stores it with the general string escapes; a desktop undoes those, then splits.
    stored = exec_value.replace("\\", "\\\\")
    assert exec_argv(_unescape(stored)) == argv


def test_plain_arguments_stay_unquoted() -> None:
    assert exec_argument("/home/a/.local/bin/sessionrec") == "/home/a/.local/bin/sessionrec"
    assert exec_argument("/a b/$x") == '"/a b/\\$x"'
    assert exec_argument("50%") == "50%%"
    assert exec_argument("") == '""'


def test_a_line_break_in_a_path_is_refused_in_one_sentence() -> None:
    with pytest.raises(EntryError, match="line break"):
        exec_argument("/tmp/a\nb")


def test_xdg_homes_default_and_relative_values_are_ignored(tmp_path: Path) -> None:
    home = str(tmp_path)
    dirs = DesktopDirs.from_environ({"HOME": home})
    assert dirs.menu_entry == tmp_path / ".local/share/applications/sessionrec.desktop"
    assert dirs.autostart_entry == tmp_path / ".config/autostart/sessionrec.desktop"
    relative = DesktopDirs.from_environ({"HOME": home, "XDG_DATA_HOME": "rel", "XDG_CONFIG_HOME": "x"})
    assert relative == dirs
    chosen = DesktopDirs.from_environ({"HOME": home, "XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c"})
    assert chosen.png_icon(48) == Path("/d/icons/hicolor/48x48/apps/sessionrec.png")
    assert chosen.svg_icon == Path("/d/icons/hicolor/scalable/apps/sessionrec.svg")
    assert chosen.autostart_entry == Path("/c/autostart/sessionrec.desktop")


def test_the_launcher_is_this_environments_script(tmp_path: Path) -> None:
    launcher = find_launcher(tmp_path)
    assert launcher.argv == [str(Path(sys.executable).parent / "sessionrec"), "--data-dir", str(tmp_path)]
    assert launcher.try_exec == launcher.argv[0]


def test_entry_text_names_the_icon_class_and_marker() -> None:
    text = entry_text(Launcher(["/opt/x y/sessionrec"], "/opt/x y/sessionrec"), autostart=True)
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    assert 'Exec="/opt/x y/sessionrec"' in lines and "TryExec=/opt/x y/sessionrec" in lines
    assert {"Icon=sessionrec", "StartupWMClass=sessionrec", "X-GNOME-Autostart-enabled=true"} <= set(lines)
    assert any(line.startswith("X-Sessionrec-Version=") for line in lines)
