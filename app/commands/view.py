"""`sessionrec view ID`: watch a session in the viewer window (video, action timeline, screenshots)."""

from __future__ import annotations

import argparse

from app.commands.context import EXIT_OK, EXIT_USAGE, CommandContext, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID")
    # For tests: print what the viewer shows, then close this many seconds after it loaded.
    parser.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import os
    import sys

    from app.commands.gui import no_display_sentence
    from app.sessions import InvalidSessionId, session_paths

    try:
        root = session_paths(ctx.data_dir, args.session_id).root
    except InvalidSessionId as exc:
        return fail(str(exc), EXIT_USAGE)
    if not root.is_dir() or root.is_symlink():
        return fail(f"There is no session {args.session_id} in {ctx.data_dir}.", EXIT_USAGE)
    sentence = no_display_sentence(dict(os.environ), sys.platform)
    if sentence:
        return fail(sentence.replace("the window", "the viewer"), EXIT_USAGE)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.desktop_entry import APP_ID
    from app.logs import setup_logging
    from app.widgets.icons import icon
    from app.widgets.session_viewer import SessionViewer

    setup_logging(ctx.data_dir)
    # The same WM_CLASS and desktop file name as the window, so the desktop shows its icon.
    app = QApplication.instance() or QApplication([APP_ID])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(icon("app"))
    viewer = SessionViewer(ctx.data_dir, args.session_id)
    viewer.closed.connect(lambda _sid: app.quit())
    viewer.show()
    QTimer.singleShot(0, viewer.start)
    exit_after = args.exit_after
    if exit_after is not None:
        def loaded() -> None:
            session = viewer.session
            shown = session.problem if session and session.problem else \
                f"{len(session.timeline.rows) if session else 0} timeline rows"
            print(f"sessionrec: viewer ready: {shown}", flush=True)
            for note in session.notes if session else []:
                print(f"sessionrec: {note}", flush=True)
            QTimer.singleShot(int(exit_after * 1000), viewer.close)

        viewer.loaded.connect(loaded)
    app.exec()
    return EXIT_OK
