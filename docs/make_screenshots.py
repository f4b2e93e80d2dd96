"""Take the README screenshots of the real window on a private Xvfb (xcb platform, captured
from the X server with QScreen.grabWindow):

- docs/screenshot-sessions.png   the sessions view with a card in every state, with thumbnails
- docs/screenshot-settings.png   the S3 settings with a validation error
- docs/screenshot-settings-backend.png  the settings for a backend (Uppy Companion): no AWS key
- docs/screenshot-recording.png  the recording view while recording the second of two monitors
- docs/screenshot-viewer.png     the session viewer on that recording, at a click (its marker
                                 on the video, its row highlighted in the timeline)
- docs/screenshot-search.png     titled sessions, a search and three cards selected for a bulk action

    python docs/make_screenshots.py
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DOCS = REPO / "docs"
MONITOR_WIDTH, MONITOR_HEIGHT = 1280, 900


def pump(app: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def grab(window: object, name: str) -> None:
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    pixmap = screen.grabWindow(window.winId())  # type: ignore[attr-defined]
    path = DOCS / name
    pixmap.save(str(path))
    print(f"wrote {path.relative_to(REPO)} ({pixmap.width()}x{pixmap.height()})")


def dark_palette() -> object:
    """A desktop's dark palette, as a dark theme would hand it to Qt."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in ((role.Window, "#2b2b2b"), (role.WindowText, "#e8e8e8"), (role.Base, "#1f1f1f"),
                         (role.AlternateBase, "#2a2a2a"), (role.Text, "#e8e8e8"), (role.Button, "#3a3a3a"),
                         (role.ButtonText, "#e8e8e8"), (role.Highlight, "#3d8ee6"),
                         (role.HighlightedText, "#ffffff"), (role.PlaceholderText, "#9a9a9a"),
                         (role.Mid, "#505050"), (role.ToolTipBase, "#333333"), (role.ToolTipText, "#e8e8e8")):
        palette.setColor(name, QColor(colour))
    for name in (role.Text, role.ButtonText, role.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, name, QColor("#777777"))
    return palette


def sessions_in_every_state(data_dir: Path) -> dict[str, str]:
    from app.models import MultipartState
    from app.sessions import session_paths
    from app.upload.session.state_store import UploadStateStore
    from tests.factories import make_session

    now = int(time.time() * 1000)
    hour = 3_600_000
    ids = {
        "uploading": make_session(data_dir, now - 1 * hour, status="uploading", zip_bytes=900_000),
        "pending": make_session(data_dir, now - 2 * hour, status="pending", zip_bytes=400_000),
        "not_uploaded": make_session(data_dir, now - 3 * hour, zip_bytes=650_000, actions=312),
        "failed": make_session(data_dir, now - 4 * hour, status="failed", zip_bytes=1_200_000),
        "done": make_session(data_dir, now - 5 * hour, status="done", zip_bytes=2_300_000),
        "damaged": make_session(data_dir, now - 7 * hour),
    }
    store = UploadStateStore(data_dir)
    store.update(ids["pending"], next_attempt_at=now + 42_000, retry_count=2,
                 last_error="The storage server cannot be reached; check the network connection.")
    # Failed after its parts were sent: the multipart upload is kept for Retry, Cancel drops it.
    failed_zip = session_paths(data_dir, ids["failed"]).zip.stat()
    store.update(ids["failed"], last_error="These credentials are not allowed to upload to the "
                 "bucket 'team-sessions'.", error_detail="AccessDenied (HTTP 403)", retry_count=0,
                 error_kind="access_denied", s3_key=f"sessions/workstation-7/{ids['failed']}.zip",
                 multipart=MultipartState(upload_id="example-upload", part_size=10 * 1024 * 1024,
                                          file_size=failed_zip.st_size,
                                          file_mtime_ns=failed_zip.st_mtime_ns))
    store.update(ids["done"], s3_key=f"sessions/workstation-7/{ids['done']}.zip")
    from app.session_texts import set_session_texts

    titles = {"uploading": ("Checkout fails with a saved card", "Ticket 4711 · customer ana@example.com"),
              "pending": ("Onboarding walkthrough, new admin", None),
              "not_uploaded": ("Export to CSV hangs at 99 %", "Reproduced twice; third try worked"),
              "done": ("Weekly QA run — release 2.4", None)}
    for state, (title, note) in titles.items():
        set_session_texts(data_dir, ids[state], title=title, note=note)
    session_paths(data_dir, ids["damaged"]).meta.write_text('{"sessionId": truncated')
    add_pictures(data_dir, [ids[k] for k in ("uploading", "pending", "not_uploaded", "failed", "done")])
    return ids


def search_and_select(app: object, window: object, data_dir: Path) -> None:
    """More titled sessions, failed after an outage; search 'checkout', select three failed ones."""
    from PySide6.QtCore import QItemSelectionModel

    from app.session_texts import set_session_texts
    from app.sessions import list_sessions
    from app.upload.session.state_store import UploadStateStore
    from tests.factories import make_session

    now = int(time.time() * 1000)
    store = UploadStateStore(data_dir)
    cases = [("Checkout: coupon field ignores Enter", "failed", "Ticket 4790"),
             ("Checkout total wrong after currency switch", "failed", None),
             ("Search results flicker on scroll", "done", None),
             ("Checkout button stays disabled on Safari", "failed", "Customer: Acme GmbH"),
             ("Checkout works again after cache clear", "done", None),
             ("Invoice PDF has the wrong address", "not_uploaded", None)]
    added = []
    for n, (title, status, note) in enumerate(cases):
        sid = make_session(data_dir, now - (30 + n * 7) * 60_000, status=status,
                           zip_bytes=500_000 + n * 90_000, actions=40 + n * 13)
        set_session_texts(data_dir, sid, title=title, note=note)
        added.append(sid)
        if status == "failed":
            store.update(sid, last_error="The network is unreachable.", retry_count=10)
    add_pictures(data_dir, added)
    window.model.set_items(list_sessions(data_dir))  # type: ignore[attr-defined]
    view = window.session_view  # type: ignore[attr-defined]
    view.set_search("checkout")
    pump(app, 0.3)
    selection = view.list.selectionModel()
    selection.clearSelection()
    flag = QItemSelectionModel.SelectionFlag
    for row in range(view.proxy.rowCount()):
        index = view.proxy.index(row, 0)
        item = index.data(0x0100 + 1)
        if item.upload_status == "failed":
            selection.select(index, flag.Select | flag.Rows)
            selection.setCurrentIndex(index, flag.NoUpdate)
    pump(app, 3.0)  # the new cards' pictures are made off the GUI thread


def demo_application() -> object:
    """A small support form on the second monitor: what a user would be recording."""
    from PySide6.QtWidgets import (
        QComboBox,
        QFormLayout,
        QLineEdit,
        QPlainTextEdit,
        QPushButton,
        QWidget,
    )

    form = QWidget()
    form.setWindowTitle("Support ticket")
    layout = QFormLayout(form)
    name = QLineEdit("Dana Whitfield")
    subject = QLineEdit()
    subject.setObjectName("subject")
    kind = QComboBox()
    kind.setObjectName("category")
    kind.addItems(["Hardware", "Software", "Network"])
    details = QPlainTextEdit("Since Monday's update the office printer shows as offline on every "
                             "laptop on the third floor. Restarting it did not help.")
    layout.addRow("Name:", name)
    layout.addRow("Subject:", subject)
    layout.addRow("Category:", kind)
    details.setObjectName("details")
    layout.addRow("Details:", details)
    layout.addRow("", QPushButton("Send ticket"))
    form.setStyleSheet("font-size: 20px;")
    form.setGeometry(MONITOR_WIDTH, 0, MONITOR_WIDTH, MONITOR_HEIGHT)
    form.show()
    return form


def add_pictures(data_dir: Path, session_ids: list[str]) -> None:
    """A periodic screenshot per session (a painted desktop), so the cards get thumbnails the
    way recorded sessions do (the app makes them from these)."""
    import numpy as np

    from app.recorder.png import encode_png
    from app.sessions import session_paths
    from bench.desktop_video import DesktopPainter

    for n, session_id in enumerate(session_ids):
        painter = DesktopPainter(10, busy=n % 2 == 1)
        pixels = np.zeros((1080, 1920, 4), np.uint8)
        pixels[:, :, 3] = 255
        for i in range(0, 200 * (n % 3) + 40 + 7 * n):
            painter(i, pixels)
        shots = session_paths(data_dir, session_id).screenshots_dir
        (shots / "periodic-000005000ms-f000050.png").write_bytes(encode_png(pixels))


def main() -> None:
    from tests.recorder.conftest import start_xvfb
    from tests.recorder.randr import monitors

    # Two monitors side by side: the window on the first, and on the second the application
    # being recorded (so the preview shows that, not the window filming itself).
    xvfb, display = start_xvfb(2 * MONITOR_WIDTH, MONITOR_HEIGHT)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        with monitors(display, [("LEFT", 0, 0, MONITOR_WIDTH, MONITOR_HEIGHT),
                                ("RIGHT", MONITOR_WIDTH, 0, MONITOR_WIDTH, MONITOR_HEIGHT)]):
            run()
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def run() -> None:
    from PySide6.QtWidgets import QApplication

    from app.app_shell.application import Application
    from app.app_shell.recording_controller import RecordingController
    from app.paths import ensure_data_dir
    from app.upload.config import UploadConfig, save_config
    from app.upload.s3.credentials import save_secrets
    from app.upload.session.progress import Progress

    app = QApplication([])
    app.setApplicationName("sessionrec")
    dark = bool(os.environ.get("SHOTS_DARK"))
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    data_dir = ensure_data_dir(Path(tempfile.mkdtemp(prefix="sessionrec-shots-")))
    save_config(data_dir, UploadConfig(bucket="team-sessions", region="eu-west-1",
                                       key_prefix="sessions/{host}/", access_key_id="AKIAEXAMPLEKEY01"))
    save_secrets(data_dir, secretAccessKey="example-secret-for-screenshots")
    ids = sessions_in_every_state(data_dir)

    # A still picture: nothing may move the states, so no queue.
    services = Application(data_dir, RecordingController(data_dir, fps=10), start_queue=False)
    window = services.window
    window.ask_close = lambda _reason: "quit"
    window.resize(1040, 880)
    window.show()
    window.show_view("sessions")
    ready: list[int] = []
    services.ready.connect(lambda: ready.append(1))
    services.start()
    while not ready or services.panel.loaded is None:
        pump(app, 0.05)
    from app.widgets.session_model import Role

    def pictures_shown() -> bool:
        model = window.model
        return all(model.index(r).data(Role.THUMBNAIL) is not None for r in range(model.rowCount())
                   if not model.index(r).data(Role.ITEM).damaged)

    deadline = time.monotonic() + 30
    while not pictures_shown() and time.monotonic() < deadline:
        pump(app, 0.1)
    item = window.model.item(ids["uploading"])
    assert item is not None
    total = item.file_size_bytes or 1
    window.model.set_progress(ids["uploading"], Progress(int(total * 0.62), total, 7.4 * 1024 * 1024, 3.0))
    window.model.upsert(dataclasses.replace(item, bytes_uploaded=int(total * 0.62), total_bytes=total))
    window.session_view.select_session(ids["not_uploaded"])
    pump(app, 1.0)
    grab(window, "screenshot-sessions-dark.png" if dark else "screenshot-sessions.png")
    if dark:
        window.close()
        services.stop()
        return

    search_and_select(app, window, data_dir)
    grab(window, "screenshot-search.png")

    window.show_view("settings")
    panel = services.panel
    panel.bucket.setText("Team_Sessions")
    panel.part_size.setValue(2)
    pump(app, 1.0)
    grab(window, "screenshot-settings.png")
    backend = panel.backend
    backend.destination.setCurrentIndex(backend.destination.findData("backend"))
    backend.url.setText("https://uploads.example.com")
    backend.protocol.setCurrentIndex(backend.protocol.findData("companion"))
    backend.token.setText("typed-but-never-shown")
    backend.webhook_url.setText("https://hooks.example.com/sessionrec")
    backend.webhook_secret.setText("typed-but-never-shown")
    panel.part_size.setValue(10)
    pump(app, 1.0)
    grab(window, "screenshot-settings-backend.png")

    window.show_view("recording")
    demo = demo_application()
    while window.options_panel.monitor.count() < 3:  # the monitors are listed off the GUI thread
        pump(app, 0.05)
    window.set_recording_options(dataclasses.replace(window.options_panel.options(), monitor="2"))
    pump(app, 0.5)
    window.next_title_edit.setText("Printer offline since the update")
    window.start_recording()
    while window.recorder.state != "recording":
        pump(app, 0.05)
    import subprocess

    from PySide6.QtWidgets import QWidget

    def click(widget_name: str) -> None:
        target = demo.findChild(QWidget, widget_name)  # type: ignore[attr-defined]
        centre = target.mapToGlobal(target.rect().center())
        subprocess.run(["xdotool", "mousemove", str(centre.x()), str(centre.y()), "click", "1"],
                       check=False)
        pump(app, 0.4)

    click("subject")
    subprocess.run(["xdotool", "type", "--delay", "50", "Printer offline since the update"],
                   check=False)
    click("details")
    pump(app, 3.0)
    grab(window, "screenshot-recording.png")
    demo.close()
    done: list[str] = []
    window.recorder.exportFinished.connect(lambda session_id, _error: done.append(session_id))
    window.recorder.stop()
    while not done:
        pump(app, 0.05)
    viewer_shot(app, data_dir, done[0])
    window.close()
    services.stop()


def viewer_shot(app: object, data_dir: Path, session_id: str) -> None:
    from app.widgets.session_viewer import SessionViewer

    viewer = SessionViewer(data_dir, session_id)
    viewer.resize(1240, 820)
    viewer.show()
    viewer.start()
    while viewer.session is None or viewer.current is None:
        pump(app, 0.05)
    rows = viewer.session.timeline.rows
    clicks = [n for n, row in enumerate(rows) if row.kind == "click"]
    row = clicks[1] if len(clicks) > 1 else clicks[0]
    viewer.seek_to_row(row)
    while viewer.current.request != viewer.last_request:
        pump(app, 0.05)
    pump(app, 1.0)
    grab(viewer, "screenshot-viewer.png")
    viewer.close()


if __name__ == "__main__":
    main()
