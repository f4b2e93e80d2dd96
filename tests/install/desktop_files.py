"""Reading desktop entries the way a desktop does (Desktop Entry spec 1.4), to check ours."""

from __future__ import annotations

from pathlib import Path

import pytest


def read_entry(path: Path) -> dict[str, str]:
    """Keys of the [Desktop Entry] group, values with the general string escapes undone."""
    keys: dict[str, str] = {}
    group = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            group = line
        elif "=" in line and group == "[Desktop Entry]":
            key, value = line.split("=", 1)
            keys[key] = _unescape(value)
    return keys


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(
                value[i + 1], "\\" + value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def exec_argv(exec_value: str) -> list[str]:
    """Split an Exec value into arguments: double quotes, backslash escapes inside them, and
    %% for a literal percent sign (other field codes are not used by sessionrec)."""
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    i = 0
    while i < len(exec_value):
        ch = exec_value[i]
        if quoted:
            if ch == "\\" and i + 1 < len(exec_value) and exec_value[i + 1] in '"`$\\':
                current.append(exec_value[i + 1])
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = in_arg = True
        elif ch == " ":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
        else:
            current.append(ch)
            in_arg = True
        i += 1
    assert not quoted, f"unterminated quote in {exec_value!r}"
    if in_arg:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def validate(*paths: Path) -> None:
    """desktop-file-validate (Debian's desktop-file-utils) must accept each file with no
    complaint at all, hints included."""
    import shutil
    import subprocess

    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.fail("desktop-file-validate is missing: apt-get install desktop-file-utils "
                    "(scripts/setup installs it)")
    result = subprocess.run([tool, *map(str, paths)], capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and not output.strip(), output
