"""Upload benchmark: the same file to the same local S3 server (moto, its own process).

Contenders, each in its own subprocess so wall time, CPU time and peak RSS are its own:
`sessionrec upload --wait` (default settings: 10 MiB parts, 4 in parallel, CRC32), boto3
`upload_file` (default TransferConfig), and `aws s3 cp` (awscli in its own venv under
bench/out, because it pins an older botocore). The machine is shared and noisy, so the
contenders run alternately for `--rounds` rounds (the order rotates each round) and the
figures are medians. Besides wall time each run reports the CPU seconds it used and the CPU
seconds the server used while it ran: moto is a single Python process, and on a small
machine it is the bottleneck, so "server CPU" shows how much work a client makes it do.
Then the resume run: sessionrec through a FaultProxy, SIGKILLed at ~50 %, resumed; the
proxy counts the bytes sent again.

    python -m bench.upload [--size-mib 1024] [--rounds 3] [--no-awscli] [--no-resume]
                           [--baseline DIR]

`--baseline DIR` adds `sessionrec upload --wait` run from another checkout (for example the
commit before a change, `git worktree add` or `git archive` into DIR) as one more contender,
so a change is measured against the code before it in the same run, same machine load.

Prints figures; asserts nothing. Goals (issue 4): >= 1.0x boto3, >= 1.2x aws cli, peak RSS
<= aws cli's, re-sent after kill <= concurrency x part size.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from app.sessions import load_meta, save_meta, session_paths
from app.upload.config import UploadConfig, save_config
from app.upload.credentials import save_secrets
from app.upload.state_store import UploadStateStore
from tests.factories import make_session
from tests.s3support.proxy import FaultProxy

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

    def rate(self, size: int) -> float:
        return size / MIB / self.seconds


@dataclasses.dataclass
class Contender:
    name: str
    cmd: list[str]
    key: str  # the object it writes, deleted after each run
    cwd: Path = REPO
    runs: list[Result] = dataclasses.field(default_factory=list)

    def ok_runs(self) -> list[Result]:
        return [r for r in self.runs if r.returncode == 0]

    def median(self, field: str) -> float:
        values = [getattr(r, field) for r in self.ok_runs()]
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
        time.sleep(0.02)
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


def s3(endpoint: str):  # boto3 client; stubs not needed here
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        config=Config(s3={"addressing_style": "path"}))


def make_zip(data_dir: Path, size: int) -> tuple[str, Path]:
    """A real zip of about `size` bytes (one stored member of random data, as a video is
    stored), with its SHA-256 and size in the meta as the recorder's export writes them:
    the uploader verifies both before an upload may end as done."""
    session_id = make_session(data_dir, int(time.time() * 1000), zip_bytes=1000)
    paths = session_paths(data_dir, session_id)
    with zipfile.ZipFile(paths.zip, "w", zipfile.ZIP_STORED) as archive, \
            archive.open("video/screen.mp4", "w", force_zip64=True) as member:
        left = size - 200  # headers and the central directory
        while left > 0:
            block = os.urandom(min(64 * MIB, left))
            member.write(block)
            left -= len(block)
    digest = hashlib.sha256()
    with paths.zip.open("rb") as handle:
        while block := handle.read(64 * MIB):
            digest.update(block)
    meta = load_meta(paths).value
    assert meta is not None
    save_meta(paths, dataclasses.replace(meta, zip_sha256=digest.hexdigest(),
                                         file_size_bytes=paths.zip.stat().st_size))
    return session_id, paths.zip


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-awscli", action="store_true")
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="also run sessionrec from this checkout (the code before a change)")
    args = parser.parse_args()
    size = args.size_mib * MIB
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=OUT))
    server, endpoint = start_server()
    try:
        client = s3(endpoint)
        client.create_bucket(Bucket=BUCKET)
        data_dir = work / "data"
        (data_dir / "sessions").mkdir(parents=True)
        (data_dir / "logs").mkdir()
        session_id, zip_path = make_zip(data_dir, size)
        config = UploadConfig(bucket=BUCKET, region="us-east-1", endpoint_url=endpoint,
                              access_key_id=KEY_ID)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        save_config(data_dir, config)
        save_secrets(data_dir, secretAccessKey=SECRET)
        env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": KEY_ID,
               "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        print(f"file: {size / MIB:.0f} MiB; server: moto at {endpoint} (own process)")

        contenders = [
            Contender("sessionrec", [sys.executable, "-m", "app", "--data-dir", str(data_dir),
                                     "upload", session_id, "--wait"], f"{session_id}.zip"),
            Contender("boto3 upload_file", [sys.executable, "-c", BOTO3_SCRIPT, endpoint,
                                            str(zip_path), BUCKET, "boto3.zip"], "boto3.zip"),
        ]
        if args.baseline is not None:
            base = args.baseline.resolve()
            contenders.append(Contender(
                "sessionrec baseline",
                ["env", f"PYTHONPATH={base}", sys.executable, "-m", "app", "--data-dir",
                 str(data_dir), "upload", session_id, "--wait"], f"{session_id}.zip",
                cwd=base))
        aws = None if args.no_awscli else awscli_venv()
        if aws is not None:
            contenders.append(Contender("aws s3 cp", [str(aws), "s3", "cp", str(zip_path),
                                                      f"s3://{BUCKET}/awscli.zip", "--endpoint-url",
                                                      endpoint, "--only-show-errors"], "awscli.zip"))
        store = UploadStateStore(data_dir)
        for round_no in range(args.rounds):
            shift = round_no % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                if contender.name.startswith("sessionrec"):
                    store.update(session_id, status="not_uploaded", multipart=None, bytes_uploaded=0)
                result = run_measured(contender.name, contender.cmd, env, server.pid, contender.cwd)
                contender.runs.append(result)
                client.delete_object(Bucket=BUCKET, Key=contender.key)
                print(f"  round {round_no + 1}: {contender.name:<20} {result.rate(size):7.1f} MiB/s "
                      f"{result.seconds:6.2f} s  cpu {result.cpu_seconds:5.2f} s  "
                      f"server cpu {result.server_cpu_seconds:5.2f} s  "
                      f"rss {result.peak_rss_mib:6.1f} MiB" + ("" if result.returncode == 0 else "  FAILED"),
                      flush=True)
        print(f"\nmedians of {args.rounds} rounds:")
        print(f"{'contender':<22}{'MiB/s':>8}{'seconds':>9}{'cpu s':>8}{'server cpu s':>14}"
              f"{'peak RSS MiB':>14}")
        for c in contenders:
            failed = len(c.runs) - len(c.ok_runs())
            print(f"{c.name:<22}{size / MIB / c.median('seconds'):>8.1f}{c.median('seconds'):>9.2f}"
                  f"{c.median('cpu_seconds'):>8.2f}{c.median('server_cpu_seconds'):>14.2f}"
                  f"{c.median('peak_rss_mib'):>14.1f}" + (f"  ({failed} FAILED)" if failed else ""))
        ours = contenders[0]
        for other in contenders[1:]:
            speed = other.median("seconds") / ours.median("seconds")
            print(f"sessionrec / {other.name}: speed {speed:.2f}x, "
                  f"client cpu {ours.median('cpu_seconds') / other.median('cpu_seconds'):.2f}x, "
                  f"peak RSS {ours.median('peak_rss_mib') / other.median('peak_rss_mib'):.2f}x")
        if not args.no_resume:
            resume_run(data_dir, session_id, config, endpoint, env, size)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def resume_run(data_dir: Path, session_id: str, config: UploadConfig, endpoint: str,
               env: dict[str, str], size: int) -> None:
    host, port = endpoint.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port))
    store = UploadStateStore(data_dir)
    store.update(session_id, status="not_uploaded", multipart=None, bytes_uploaded=0)
    save_config(data_dir, dataclasses.replace(config, endpoint_url=proxy.endpoint_url))
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "upload", session_id, "--wait"]
    try:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            if proxy.stats().body_bytes["UploadPart"] >= size // 2:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait()
        proxy.wait_idle()
        first = proxy.stats()
        state = store.get(session_id)
        recorded = len(state.multipart.parts) if state and state.multipart else 0
        proxy.reset_stats()
        started = time.monotonic()
        result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        second = proxy.stats()
        resent = sum(n for part, n in second.part_bytes.items() if part in first.part_requests)
        sent_total = first.body_bytes["UploadPart"] + second.body_bytes["UploadPart"]
        print(f"\nresume: killed after {first.body_bytes['UploadPart'] / MIB:.0f} MiB sent "
              f"({recorded} parts recorded); resume exit {result.returncode} in {elapsed:.1f} s")
        print(f"resume: bytes re-sent for parts begun before the kill: {resent / MIB:.1f} MiB "
              f"(goal <= concurrency x part size = "
              f"{config.concurrency * config.part_size_bytes / MIB:.0f} MiB)")
        print(f"resume: total sent over both runs {sent_total / MIB:.1f} MiB for a "
              f"{size / MIB:.0f} MiB file (overhead {(sent_total - size) / MIB:.1f} MiB)")
        print(json.dumps({"resentBytes": resent, "overheadBytes": sent_total - size}))
    finally:
        proxy.stop()


if __name__ == "__main__":
    main()
