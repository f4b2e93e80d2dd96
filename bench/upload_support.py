"""What the upload benchmarks share: the server, the test zip, the contenders and how one
contender's run is measured (wall time, CPU seconds, peak RSS, the server's CPU)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from app.sessions import load_meta, save_meta, session_paths
from app.upload.config import UploadConfig, save_config
from app.upload.s3.credentials import save_secrets
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
MIB = 1024 * 1024
BUCKET = "bench-bucket"
KEY_ID, SECRET = "SRBENCHMARK000000001", "bench-secret-not-checked-by-moto-000000"

BOTO3_SCRIPT = """
import sys, boto3
from botocore.config import Config
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"}))
c.upload_file(sys.argv[2], sys.argv[3], sys.argv[4])
"""


@dataclasses.dataclass
class Result:
    name: str
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    server_cpu_seconds: float
    returncode: int
    extra: dict[str, float] = dataclasses.field(default_factory=dict)

    def rate(self, size: int) -> float:
        return size / MIB / self.seconds


@dataclasses.dataclass
class Contender:
    name: str
    cmd: list[str]
    key: str  # the object it writes, deleted after each run
    runs: list[Result] = dataclasses.field(default_factory=list)
    cwd: Path = REPO

    def ok_runs(self) -> list[Result]:
        return [r for r in self.runs if r.returncode == 0]

    def median(self, field: str) -> float:
        values = [getattr(r, field) if hasattr(r, field) else r.extra[field] for r in self.ok_runs()]
        return statistics.median(values) if values else float("nan")


def run_measured(name: str, cmd: list[str], env: dict[str, str], server_pid: int,
                 cwd: Path = REPO) -> Result:
    # Peak RSS is VmHWM from /proc, polled: wait4's ru_maxrss would carry over this
    # (bigger) parent's high-water mark through fork on Linux. CPU time is the children's
    # rusage delta (the server is a child too, but is not reaped until the end).
    cpu_before = _children_cpu()
    server_before = _process_cpu(server_pid)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak_kib = 0
    while proc.poll() is None:
        peak_kib = max(peak_kib, _vm_hwm_kib(proc.pid))
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    server_cpu = _process_cpu(server_pid) - server_before
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(f"  {name} failed ({proc.returncode}): {err[-500:]}")
    return Result(name, elapsed, peak_kib / 1024, _children_cpu() - cpu_before, server_cpu,
                  proc.returncode)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """utime + stime of a live process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def start_server() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.s3support.server"], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stop_server(server: subprocess.Popen[str]) -> None:
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=30)


def s3(endpoint: str) -> Any:  # a boto3 client; stubs not needed here
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        config=Config(s3={"addressing_style": "path"}))


def make_zip(data_dir: Path, size: int) -> tuple[str, Path]:
    """A session whose zip is a real (stored) zip of about `size` bytes of random data, with
    its SHA-256 and size in session-meta.json as the recorder writes them."""
    session_id = make_session(data_dir, int(time.time() * 1000), zip_bytes=1000)
    paths = session_paths(data_dir, session_id)
    payload = max(0, size - 200)
    with zipfile.ZipFile(paths.zip, "w", zipfile.ZIP_STORED) as archive, \
            archive.open("payload.bin", "w", force_zip64=payload >= 2**31) as member:
        left = payload
        while left:
            block = os.urandom(min(64 * MIB, left))
            member.write(block)
            left -= len(block)
    digest = hashlib.sha256()
    with paths.zip.open("rb") as handle:
        while block := handle.read(8 * MIB):
            digest.update(block)
    meta = load_meta(paths).value
    assert meta is not None
    save_meta(paths, dataclasses.replace(meta, zip_sha256=digest.hexdigest(),
                                         file_size_bytes=paths.zip.stat().st_size))
    return session_id, paths.zip


def compile_sources(trees: list[Path]) -> None:
    """Byte-compile each checkout's app/ as installing a wheel does. boto3 and the AWS CLI
    run from site-packages with their .pyc files; a checkout under PYTHONDONTWRITEBYTECODE
    (set on this machine) would compile ~60 modules from source on every start instead."""
    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "app")], check=True)


def awscli_venv() -> Path | None:
    venv = OUT / "awscli-venv"
    aws = venv / "bin" / "aws"
    if aws.exists():
        return aws
    print("  creating the awscli venv (once) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "awscli"], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"  awscli venv failed: {exc}")
        return None
    return aws


@dataclasses.dataclass
class Setup:
    """A data dir with one session of the given size, settings for `endpoint`, and the
    environment every contender runs in."""

    data_dir: Path
    session_id: str
    zip_path: Path
    size: int
    config: UploadConfig
    env: dict[str, str]

    @classmethod
    def create(cls, work: Path, size: int, endpoint: str) -> Setup:
        data_dir = work / "data"
        (data_dir / "sessions").mkdir(parents=True)
        (data_dir / "logs").mkdir()
        session_id, zip_path = make_zip(data_dir, size)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        config = UploadConfig(bucket=BUCKET, region="us-east-1", endpoint_url=endpoint,
                              access_key_id=KEY_ID)
        save_config(data_dir, config)
        save_secrets(data_dir, secretAccessKey=SECRET)
        env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": KEY_ID,
               "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        return cls(data_dir, session_id, zip_path, zip_path.stat().st_size, config, env)

    def point_at(self, endpoint: str) -> None:
        self.config = dataclasses.replace(self.config, endpoint_url=endpoint)
        save_config(self.data_dir, self.config)

    def reset(self) -> None:
        """The session back to not uploaded, for the next sessionrec run."""
        UploadStateStore(self.data_dir).update(self.session_id, status="not_uploaded",
                                               multipart=None, bytes_uploaded=0)

    def sessionrec_cmd(self) -> list[str]:
        return [sys.executable, "-m", "app", "--data-dir", str(self.data_dir), "upload",
                self.session_id, "--wait"]

    def contenders(self, endpoint: str, awscli: Path | None,
                   baseline: Path | None = None) -> list[Contender]:
        found = [
            Contender("sessionrec", self.sessionrec_cmd(), f"{self.session_id}.zip"),
            Contender("boto3 upload_file", [sys.executable, "-c", BOTO3_SCRIPT, endpoint,
                                            str(self.zip_path), BUCKET, "boto3.zip"], "boto3.zip"),
        ]
        if baseline is not None:
            base = baseline.resolve()
            found.append(Contender("sessionrec before", ["env", f"PYTHONPATH={base}",
                                                         *self.sessionrec_cmd()],
                                   f"{self.session_id}.zip", cwd=base))
        if awscli is not None:
            found.append(Contender("aws s3 cp", [str(awscli), "s3", "cp", str(self.zip_path),
                                                 f"s3://{BUCKET}/awscli.zip", "--endpoint-url",
                                                 endpoint, "--only-show-errors"], "awscli.zip"))
        return found


def clean_bucket(client: Any) -> None:
    """Free moto's memory between runs: objects and any unfinished multipart uploads."""
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
