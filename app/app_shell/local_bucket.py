"""The window's local test bucket: moto's S3 server in a child process (`demo_child.py`), and
whether a config points at it. Qt-free."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def is_demo_config(config: Any) -> bool:
    from app.upload.config import is_loopback_host
    from app.upload.s3.demo_server import DEMO_ACCESS_KEY, DEMO_BUCKET

    if config is None or not config.endpoint_url:
        return False
    host = urlsplit(config.endpoint_url).hostname or ""
    return bool(config.bucket == DEMO_BUCKET and config.access_key_id == DEMO_ACCESS_KEY
                and is_loopback_host(host))


@dataclass
class LocalBucket:
    """The local test bucket's child process (`app/app_shell/demo_child.py`)."""

    process: subprocess.Popen[str]
    endpoint_url: str
    bucket: str

    @classmethod
    def start(cls, data_dir: Path, timeout_s: float = 60.0) -> LocalBucket:
        # The folder this `app` package was imported from (a checkout, or site-packages): the child
        # imports the same package, installed or not. It is also the child's working folder, which
        # `-m` puts first on sys.path; never the data folder, which is untrusted.
        package_parent = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package_parent), env.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "app.app_shell.demo_child", str(data_dir)], cwd=package_parent,
            env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The test bucket shares this computer's cores with the window; on two cores, its burst
        # of work when a big upload completes would otherwise delay the event loop.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, 10)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout_s)
        line = process.stdout.readline() if ready else ""
        try:
            info = json.loads(line)
            return cls(process, str(info["endpointUrl"]), str(info["bucket"]))
        except (ValueError, KeyError, TypeError):
            process.kill()
            _, err = process.communicate(timeout=10)
            last = (err.strip().splitlines() or ["it did not start in time"])[-1]
            raise RuntimeError(last[:200]) from None

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()  # the child serves until its stdin closes
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
