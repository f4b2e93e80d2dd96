"""How often one Upload click in the window reads `upload-config.json` and `session-meta.json`.

The window (offscreen) with its real queue and engine, a 1 MiB session and moto's S3 server
over HTTP on loopback; the card's Upload is clicked once and the session followed until `done`.
Every open of those two files through `app/session_files.py` (the one way the app opens them)
is counted, split by the thread that opened it (the GUI thread, or any other) and by phase:
from the click until the upload starts (`uploading`), and from then until `done`.

    python bench/upload_click_reads.py

Prints one table; nothing is asserted.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app import session_files  # noqa: E402
from app.paths import ensure_data_dir  # noqa: E402
from tests.factories import make_session  # noqa: E402
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server  # noqa: E402

COUNTED = ("upload-config.json", "session-meta.json")


class OpenCounter:
    """Wraps session_files' two openers; counts read-only opens of COUNTED by (phase, thread, file)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.phase = "before"
        self._gui = threading.main_thread()
        self._lock = threading.Lock()
        self._open_fd = session_files.open_fd
        self._open_regular = session_files.open_regular

    def _count(self, name: str, flags: int) -> None:
        if name in COUNTED and flags & (os.O_WRONLY | os.O_RDWR) == 0:
            where = "GUI thread" if threading.current_thread() is self._gui else "other threads"
            with self._lock:
                self.counts[(self.phase, where, name)] += 1

    def install(self) -> None:
        def open_fd(root: Path, rel: str, flags: int = os.O_RDONLY, *args: Any, **kwargs: Any) -> int:
            self._count(Path(rel).name, flags)
            return self._open_fd(root, rel, flags, *args, **kwargs)

        def open_regular(path: Path) -> int:
            self._count(Path(path).name, os.O_RDONLY)
            return self._open_regular(path)

        session_files.open_fd = open_fd
        session_files.open_regular = open_regular


def start_window(data_dir: Path) -> tuple[Any, Any]:
    """The window as `sessionrec gui` builds it (either layout of the code: before or after)."""
    import importlib

    try:
        application = importlib.import_module("app.app_shell.application")
    except ImportError:  # the layout before the composition root left widgets/
        window_module = importlib.import_module("app.main_window")
        controller = importlib.import_module("app.widgets.recording_controller")
        services = importlib.import_module("app.widgets.services")
        window = window_module.MainWindow(data_dir, controller.RecordingController(data_dir))
        return window, services.Services(window)
    shell = application.Application(data_dir)
    return shell.window, shell


def wait(app: QApplication, until: Any, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("gave up waiting")
        app.processEvents()
        time.sleep(0.002)


def main() -> None:
    from app.upload.config import UploadConfig, save_config
    from app.upload.s3.credentials import save_secrets

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    server = S3Server().start()
    data_dir = ensure_data_dir(Path(tempfile.mkdtemp(prefix="bench-click-reads-")))
    server.client().create_bucket(Bucket="bench-reads")
    save_config(data_dir, UploadConfig(bucket="bench-reads", region="us-east-1",
                                       endpoint_url=server.endpoint_url,
                                       access_key_id=OPEN_ACCESS_KEY))
    save_secrets(data_dir, secretAccessKey=OPEN_SECRET_KEY, sessionToken=None)
    session_id = make_session(data_dir, int(time.time() * 1000) - 60_000, zip_bytes=1024 * 1024)
    window, services = start_window(data_dir)
    ready: list[int] = []
    services.ready.connect(lambda: ready.append(1))
    window.show()
    services.start()
    wait(app, lambda: bool(ready) and window.model.config_valid)
    wait(app, lambda: window.model.item(session_id) is not None)
    time.sleep(0.3)
    app.processEvents()

    counter = OpenCounter()
    counter.install()
    counter.phase = "click to uploading"

    def status() -> str | None:
        item = window.model.item(session_id)
        return None if item is None else item.upload_status

    window.on_card_action(session_id, "upload")
    wait(app, lambda: status() in ("uploading", "done", "failed"))
    counter.phase = "uploading to done"
    wait(app, lambda: status() in ("done", "failed"))
    time.sleep(0.3)
    app.processEvents()
    print(f"session {session_id}: {status()}")
    print(f"{'phase':<22} {'thread':<14} " + " ".join(f"{name:>20}" for name in COUNTED))
    totals: Counter[str] = Counter()
    for phase in ("click to uploading", "uploading to done"):
        for where in ("GUI thread", "other threads"):
            row = [counter.counts[(phase, where, name)] for name in COUNTED]
            for name, count in zip(COUNTED, row, strict=True):
                totals[name] += count
            print(f"{phase:<22} {where:<14} " + " ".join(f"{n:>20}" for n in row))
    print(f"{'total':<37}" + " ".join(f"{totals[name]:>20}" for name in COUNTED))
    window.close()
    services.stop()
    server.stop()


if __name__ == "__main__":
    main()
