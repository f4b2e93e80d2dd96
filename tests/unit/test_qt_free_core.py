"""DESIGN §2: nothing under app/recorder, app/upload or app/playback imports PySide6, except
qt_*.py files."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def qt_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                  "import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant)):
            names = [str(node.args[0].value)]
        found += [n for n in names if n.split(".")[0] in QT_MODULES]
    return found


def test_detector_catches_every_import_form() -> None:
    assert qt_imports("import PySide6.QtCore")
    assert qt_imports("from PySide6 import QtCore")
    assert qt_imports("def f():\n    from PySide6.QtCore import QObject")
    assert qt_imports("importlib.import_module('PySide6.QtCore')")
    assert not qt_imports("import json\nfrom app.sessions import list_sessions")


def test_core_is_qt_free() -> None:
    offenders = {}
    for folder in ("recorder", "upload", "playback"):
        for path in (APP / folder).rglob("*.py"):
            if path.name.startswith("qt_"):
                continue
            found = qt_imports(path.read_text())
            if found:
                offenders[str(path.relative_to(APP))] = found
    assert offenders == {}
    for folder in ("upload", "upload/queue", "upload/session", "upload/s3", "playback"):
        assert any((APP / folder).rglob("*.py")), "the scan found no files; the path is wrong"


def test_shared_modules_the_core_uses_are_qt_free() -> None:
    for name in ("jsonfile.py", "jsonrecord.py", "models.py", "sessions.py", "paths.py", "hashing.py",
                 "retention.py", "logs.py", "format.py", "package_files.py", "desktop_entry.py",
                 "session_files.py"):
        assert qt_imports((APP / name).read_text()) == [], name


def test_the_queue_commands_are_qt_free() -> None:
    """`upload`, `queue`, `retry`, `cancel` own or hand off the queue without Qt (the window
    keeps qt_host.QueueHost); a headless upload must not pay for loading Qt."""
    for name in ("upload.py", "queue.py", "retry.py", "cancel.py", "queue_support.py",
                 "queue_runner.py"):
        assert qt_imports((APP / "commands" / name).read_text()) == [], name
