"""Run by the wheel-install test with the new environment's python in isolated mode (-I), so
`app` can only come from the installed wheel: loads every icon through the installed package,
then starts the real window (on the X server in $DISPLAY) and quits. Prints one JSON report.

Usage: python -I installed_check.py DATA_DIR NAMES_JSON
"""

from __future__ import annotations

import json
import sys


def visible_pixels(image: object) -> int:
    from PySide6.QtGui import QImage

    assert isinstance(image, QImage)
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixelColor(x, y).alpha() > 0)


def main(data_dir: str, names_json: str) -> int:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    import app
    import app.widgets.icons as icons
    from app.package_files import icon_names

    qt_app = QApplication(["sessionrec-check"])
    expected = json.loads(names_json)
    report: dict[str, object] = {"appFile": app.__file__, "packaged": icon_names()}
    # Every icon the source names, as the installed package draws it at 32 px.
    report["pixels"] = {name: visible_pixels(icons.icon(name).pixmap(32, 32).toImage())
                        for name in expected}

    # The window asks for its icons through `icon`; record what it got.
    requested: dict[str, bool] = {}
    real_icon = icons.icon

    def recording_icon(name: str) -> object:
        result = real_icon(name)
        requested[name] = not result.pixmap(16, 16).isNull()
        return result

    icons.icon = recording_icon  # type: ignore[assignment]
    from app.cli import main as cli_main

    report["exitCode"] = cli_main(["--data-dir", data_dir, "gui", "--exit-after", "0.5"])
    report["requested"] = requested
    report["windowIcon"] = not qt_app.windowIcon().isNull()
    report["desktopFileName"] = QGuiApplication.desktopFileName()
    report["platform"] = QGuiApplication.platformName()
    print("REPORT " + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
