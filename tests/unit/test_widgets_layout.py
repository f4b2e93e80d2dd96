"""app/widgets/ holds widgets only: nothing there imports the window, the composition root (the
services that wire the app), the upload queue's Qt side or the recorder. What a widget shows of
the recorder are its plain records (options, monitors, preview images)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# Plain records a widget may show; everything else under app.recorder records.
RECORDER_RECORDS = ("app.recorder.options", "app.recorder.monitors", "app.recorder.preview")
FORBIDDEN = ("app.main_window", "app.app_shell", "app.widgets.services", "app.upload.qt_host",
             "app.upload.qt_queue", "app.upload.qt_ipc")


def imported_modules(source: str) -> list[str]:
    """Every module an import names, lazy imports inside functions included."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def is_forbidden(module: str) -> bool:
    if any(module == name or module.startswith(name + ".") for name in FORBIDDEN):
        return True
    if module == "app.recorder":
        return False  # `from app.recorder import options` is checked as app.recorder.options
    if module.startswith("app.recorder."):
        return not any(module == ok or module.startswith(ok + ".") for ok in RECORDER_RECORDS)
    return False


def test_detector() -> None:
    assert is_forbidden("app.main_window")
    assert is_forbidden("app.recorder.input_log")
    assert is_forbidden("app.recorder.session_recorder")
    assert is_forbidden("app.app_shell.application")
    assert not is_forbidden("app.recorder.options")
    assert "app.recorder.input_log" in imported_modules(
        "def f():\n    from app.recorder.input_log import quiet_after_stop")
    assert "app.recorder.session_recorder" in imported_modules(
        "from app.recorder import session_recorder")


def test_widgets_import_no_window_services_queue_or_recorder() -> None:
    offenders: dict[str, list[str]] = {}
    files = list((APP / "widgets").rglob("*.py"))
    assert files, "the scan found no files; the path is wrong"
    for path in files:
        bad = [m for m in imported_modules(path.read_text()) if is_forbidden(m)]
        if bad:
            offenders[str(path.relative_to(APP))] = bad
    assert offenders == {}


def test_widgets_holds_no_entry_points_or_composition_root() -> None:
    """Process entry points and the app's wiring live outside widgets/ (app/app_shell/)."""
    for path in (APP / "widgets").rglob("*.py"):
        source = path.read_text()
        assert "__main__" not in source, path.name
        assert "QApplication(" not in source, path.name
