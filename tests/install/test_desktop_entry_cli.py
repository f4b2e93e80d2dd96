"""`sessionrec install-desktop-entry` as a real process, into a temporary XDG data and config home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.desktop_entry import ICON_SIZES
from tests.install.desktop_files import exec_argv, png_size, read_entry, validate

REPO = Path(__file__).resolve().parents[2]


def xdg_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_DATA_HOME=str(tmp_path / "xdg-data"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    env.pop("SESSIONREC_DATA_DIR", None)
    return env


def sessionrec(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def files_under(*folders: Path) -> set[Path]:
    return {p for folder in folders if folder.exists() for p in folder.rglob("*") if not p.is_dir()}


def listed(stdout: str, verb: str) -> set[Path]:
    return {Path(line.removeprefix(f"{verb} ")) for line in stdout.splitlines()
            if line.startswith(f"{verb} /")}


def test_writes_valid_entries_and_icons_and_remove_takes_them_all(tmp_path: Path) -> None:
    env = xdg_env(tmp_path)
    data_home, config_home = tmp_path / "xdg-data", tmp_path / "xdg-config"
    # A data folder whose name needs the Exec line's quoting and escapes.
    data_dir = tmp_path / 'my data $HOME "quoted" 100%'
    result = sessionrec(env, "--data-dir", str(data_dir), "install-desktop-entry", "--autostart")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    menu = data_home / "applications" / "sessionrec.desktop"
    login = config_home / "autostart" / "sessionrec.desktop"
    validate(menu, login)
    hicolor = data_home / "icons" / "hicolor"
    pngs = {size: hicolor / f"{size}x{size}" / "apps" / "sessionrec.png" for size in ICON_SIZES}
    svg = hicolor / "scalable" / "apps" / "sessionrec.svg"
    for size, png in pngs.items():
        assert png_size(png) == (size, size)
    assert svg.read_bytes() == (REPO / "app" / "resources" / "icons" / "app.svg").read_bytes()
    written = files_under(data_home, config_home)
    assert written == {menu, login, svg, *pngs.values()}
    assert listed(result.stdout, "wrote") == written

    for path in (menu, login):
        entry = read_entry(path)
        assert entry["Type"] == "Application" and entry["Icon"] == "sessionrec"
        assert entry["StartupWMClass"] == "sessionrec"
        assert "AudioVideo" in entry["Categories"].split(";")
        argv = exec_argv(entry["Exec"])
        # The console script of this interpreter's environment, keeping the chosen data folder.
        assert argv == [str(Path(sys.executable).parent / "sessionrec"), "--data-dir", str(data_dir)]
        assert entry["TryExec"] == argv[0] and os.access(argv[0], os.X_OK)
    assert "X-GNOME-Autostart-enabled" in read_entry(login)

    # The login entry alone, then everything else.
    only_login = sessionrec(env, "install-desktop-entry", "--remove", "--autostart")
    assert only_login.returncode == 0, only_login.stderr
    assert listed(only_login.stdout, "removed") == {login}
    assert files_under(data_home, config_home) == written - {login}

    removed = sessionrec(env, "install-desktop-entry", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert listed(removed.stdout, "removed") == written - {login}
    assert files_under(data_home, config_home) == set()

    again = sessionrec(env, "install-desktop-entry", "--remove")
    assert again.returncode == 0 and "Nothing to remove" in again.stdout


def test_without_a_chosen_data_folder_the_entry_starts_plain_sessionrec(tmp_path: Path) -> None:
    env = xdg_env(tmp_path)
    result = sessionrec(env, "install-desktop-entry")
    assert result.returncode == 0, result.stderr
    menu = tmp_path / "xdg-data" / "applications" / "sessionrec.desktop"
    validate(menu)
    assert exec_argv(read_entry(menu)["Exec"]) == [str(Path(sys.executable).parent / "sessionrec")]
    assert not (tmp_path / "xdg-config" / "autostart").exists()


def test_remove_keeps_an_entry_of_that_name_that_sessionrec_did_not_write(tmp_path: Path) -> None:
    env = xdg_env(tmp_path)
    assert sessionrec(env, "install-desktop-entry").returncode == 0
    menu = tmp_path / "xdg-data" / "applications" / "sessionrec.desktop"
    hand_written = "[Desktop Entry]\nType=Application\nName=mine\nExec=/usr/bin/true\n"
    menu.write_text(hand_written)
    result = sessionrec(env, "install-desktop-entry", "--remove")
    assert result.returncode == 0, result.stderr
    assert f"kept {menu}: sessionrec did not write it" in result.stdout
    assert menu.read_text() == hand_written
    assert files_under(tmp_path / "xdg-data") == {menu}


def test_an_unusable_data_home_is_one_sentence(tmp_path: Path) -> None:
    env = xdg_env(tmp_path)
    (tmp_path / "xdg-data").write_text("a file, not a folder")
    result = sessionrec(env, "--data-dir", str(tmp_path / "data"), "install-desktop-entry")
    assert result.returncode == 1
    assert result.stderr.startswith("sessionrec: the desktop entry could not be written")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
