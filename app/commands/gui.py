"""`sessionrec [gui]`: the desktop app."""

from __future__ import annotations

import argparse

from app.commands.context import EXIT_USAGE, CommandContext, fail


def no_display_sentence(environ: dict[str, str], platform: str) -> str | None:
    """Why the window cannot open here, or None. Qt itself would abort with a core dump and a
    message that names the wrong library (DESIGN §8)."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("There is no screen to show the window on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set); start it from a desktop session, or use the command line: "
            "sessionrec record | list | upload.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(command_name="gui")
    parser.add_argument("--fps", type=int, default=None,
                        help="frames per second while recording (1-30); otherwise the frame rate "
                             "last chosen in the Recording view")
    # For the start-up smoke test: quit this many seconds after the services are ready.
    parser.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    # Qt is imported here, not at module level, so the other commands start fast.
    import dataclasses
    import os
    import sys

    fps = getattr(args, "fps", None)
    if fps is not None and not 1 <= fps <= 30:
        return fail("--fps must be between 1 and 30.", EXIT_USAGE)
    if args.exit_after is not None and not 0 <= args.exit_after <= 3600:
        return fail("--exit-after must be between 0 and 3600 seconds.", EXIT_USAGE)
    sentence = no_display_sentence(dict(os.environ), sys.platform)
    if sentence:
        return fail(sentence, EXIT_USAGE)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.app_shell.application import Application
    from app.desktop_entry import APP_ID
    from app.logs import setup_logging
    from app.widgets.icons import icon

    setup_logging(ctx.data_dir)
    # argv[0] and the application name become the window's WM_CLASS (instance, class); both are
    # APP_ID, whatever started us (`python -m app` would give "__main__.py"), so the desktop matches
    # the window to the entry's StartupWMClass. The desktop file name does the same on Wayland.
    app = QApplication.instance() or QApplication([APP_ID])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_ID)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(icon("app"))
    # The tray keeps the app alive while the window is hidden.
    app.setQuitOnLastWindowClosed(False)

    shell = Application(ctx.data_dir)
    window = shell.window
    if fps is not None:
        window.set_recording_options(dataclasses.replace(window.options_panel.options(), fps=fps))
    window.destroyed.connect(app.quit)
    window.closed.connect(app.quit)
    window.show()
    # Everything slow starts after the first paint: the window is never frozen at start.
    QTimer.singleShot(0, shell.start)
    exit_after = getattr(args, "exit_after", None)
    if exit_after is not None:
        def ready() -> None:
            print(f"sessionrec: window ready with {window.model.rowCount()} sessions", flush=True)
            QTimer.singleShot(int(exit_after * 1000), window.close)

        shell.ready.connect(ready)
    code = app.exec()
    shell.stop()
    return int(code)
