"""The real Uppy Companion (npm `@uppy/companion`) for tests, in front of the moto server.

`ensure_installed()` installs the pinned version once into a cache folder
(`$SESSIONREC_TEST_CACHE` or `~/.cache/sessionrec-tests`, then `companion/<version>/`) with
`npm install --no-audit --no-fund`; later runs reuse it. Installs from several test processes
are serialised with a lock file, and a half-finished install is never used (it is built in a
temporary folder and renamed into place).

`CompanionServer(...).start()` runs `node .../bin/companion` on a free loopback port with its
S3 settings pointing at an S3 endpoint (moto, usually through a FaultProxy so tests can count
and break the presigned part uploads), waits until it answers HTTP, and `stop()` ends it.
Companion is given `AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED`: without it the AWS SDK v3
it bundles signs a CRC32 of the *empty* body into every part URL, which real S3 rejects for
any non-empty part (moto does not check; see README "Uploading through a backend").

`python -m tests.s3support.companion` installs it and prints the folder (used by scripts).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

COMPANION_VERSION = "6.2.2"
# Companion 6 needs node ^20.19.3 or >= 22.
MIN_NODE = (20, 19)
INSTALL_TIMEOUT_S = 600
READY_TIMEOUT_S = 60


class CompanionUnavailable(RuntimeError):
    """node or npm is missing or too old on this machine; str() says which."""


def cache_root() -> Path:
    base = os.environ.get("SESSIONREC_TEST_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "sessionrec-tests"


def install_dir(version: str = COMPANION_VERSION) -> Path:
    return cache_root() / "companion" / version


def _node_version() -> tuple[int, int]:
    node = shutil.which("node")
    if node is None:
        raise CompanionUnavailable("node is not installed (Uppy Companion needs node 20.19+)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = out.strip().lstrip("v").split(".")[:2]
    return int(major), int(minor)


def entry_point(folder: Path) -> Path:
    return folder / "node_modules" / "@uppy" / "companion" / "bin" / "companion"


def ensure_installed(version: str = COMPANION_VERSION) -> Path:
    """The folder holding node_modules/@uppy/companion at `version`, installing it once."""
    if _node_version() < MIN_NODE:
        raise CompanionUnavailable(f"node {'.'.join(map(str, _node_version()))} is too old for "
                                   "Uppy Companion 6 (needs 20.19+)")
    target = install_dir(version)
    if entry_point(target).exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise CompanionUnavailable("npm is not installed, so Uppy Companion cannot be installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if entry_point(target).exists():  # another process installed it meanwhile
            return target
        building = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
        try:
            (building / "package.json").write_text('{"private": true}\n')
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--no-save",
                 f"@uppy/companion@{version}"],
                cwd=building, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
            if result.returncode != 0 or not entry_point(building).exists():
                raise RuntimeError(f"npm install @uppy/companion@{version} failed:\n"
                                   f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            if target.exists():
                shutil.rmtree(target)
            building.rename(target)
        finally:
            if building.exists():
                shutil.rmtree(building, ignore_errors=True)
    return target


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class CompanionServer:
    s3_endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"
    # Lifetime of the part URLs Companion signs (its default is 800 s).
    expires_s: int = 800
    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None
    _workdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> CompanionServer:
        folder = ensure_installed()
        self.port = self.port or free_port(self.host)
        self._workdir = Path(tempfile.mkdtemp(prefix="companion-"))
        datadir = self._workdir / "data"
        datadir.mkdir()
        log_path = self.log_path or self._workdir / "companion.log"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self._workdir),
            "COMPANION_PORT": str(self.port),
            "COMPANION_DOMAIN": f"{self.host}:{self.port}",
            "COMPANION_PROTOCOL": "http",
            "COMPANION_DATADIR": str(datadir),
            "COMPANION_SECRET": os.urandom(24).hex(),
            "COMPANION_CLIENT_ORIGINS": "true",
            "COMPANION_AWS_KEY": self.access_key_id,
            "COMPANION_AWS_SECRET": self.secret_access_key,
            "COMPANION_AWS_BUCKET": self.bucket,
            "COMPANION_AWS_REGION": self.region,
            "COMPANION_AWS_ENDPOINT": self.s3_endpoint,
            "COMPANION_AWS_FORCE_PATH_STYLE": "true",
            "COMPANION_AWS_EXPIRES": str(self.expires_s),
            "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
            **self.extra_env,
        }
        with open(log_path, "wb") as log:
            self._process = subprocess.Popen(
                ["node", str(entry_point(folder))], cwd=self._workdir, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(log_path)
        return self

    def _wait_ready(self, log_path: Path) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError("Uppy Companion exited at start:\n"
                                   + log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers HTTP: ready
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("Uppy Companion did not answer within "
                                       f"{READY_TIMEOUT_S} s:\n"
                                       + log_path.read_text(errors="replace")[-3000:]) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> CompanionServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        print(ensure_installed())
