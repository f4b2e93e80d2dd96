"""Upload benchmark: the same file to the same local S3 server (moto, its own process).

Contenders, each in its own subprocess so wall time and peak RSS (wait4's ru_maxrss) are
its own: `sessionrec upload --wait` (default settings: 10 MiB parts, 4 in parallel, CRC32),
boto3 `upload_file` (default TransferConfig), and `aws s3 cp` (awscli in its own venv under
bench/out, because it pins an older botocore). Then the resume run: sessionrec through a
FaultProxy, SIGKILLed at ~50 %, resumed; the proxy counts the bytes sent again.

    python -m bench.upload [--size-mib 1024] [--no-awscli]

Prints figures; asserts nothing. Goals (issue 4): >= 1.0x boto3, >= 1.2x aws cli, peak RSS
<= aws cli's, re-sent after kill <= concurrency x part size.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
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
KEY_ID, SECRET = "AKIABENCHMARK0000001", "bench-secret-not-checked-by-moto-000000"

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
    returncode: int

    def rate(self, size: int) -> float:
        return size / MIB / self.seconds


def run_measured(name: str, cmd: list[str], env: dict[str, str]) -> Result:
    # Peak RSS is VmHWM from /proc, polled: wait4's ru_maxrss would carry over this
    # (bigger) parent's high-water mark through fork on Linux.
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak_kib = 0
    while proc.poll() is None:
        peak_kib = max(peak_kib, _vm_hwm_kib(proc.pid))
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(f"  {name} failed ({proc.returncode}): {err[-500:]}")
    return Result(name, elapsed, peak_kib / 1024, proc.returncode)


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
    session_id = make_session(data_dir, int(time.time() * 1000), zip_bytes=1000)
    paths = session_paths(data_dir, session_id)
    digest = hashlib.sha256()
    with paths.zip.open("wb") as handle:
        left = size
        while left:
            block = os.urandom(min(64 * MIB, left))
            handle.write(block)
            digest.update(block)
            left -= len(block)
    meta = load_meta(paths).value
    assert meta is not None
    # The recorder writes zipSha256 at export; set it as it would.
    save_meta(paths, dataclasses.replace(meta, zip_sha256=digest.hexdigest(), file_size_bytes=size))
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
    parser.add_argument("--no-awscli", action="store_true")
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

        def clean(key: str) -> None:
            client.delete_object(Bucket=BUCKET, Key=key)

        results: list[Result] = []
        results.append(run_measured("sessionrec", [sys.executable, "-m", "app", "--data-dir",
                                                   str(data_dir), "upload", session_id, "--wait"], env))
        clean(f"{session_id}.zip")
        results.append(run_measured("boto3 upload_file", [sys.executable, "-c", BOTO3_SCRIPT, endpoint,
                                                          str(zip_path), BUCKET, "boto3.zip"], env))
        clean("boto3.zip")
        aws = None if args.no_awscli else awscli_venv()
        if aws is not None:
            results.append(run_measured("aws s3 cp", [str(aws), "s3", "cp", str(zip_path),
                                                      f"s3://{BUCKET}/awscli.zip", "--endpoint-url",
                                                      endpoint, "--only-show-errors"], env))
            clean("awscli.zip")
        print(f"\n{'contender':<20}{'MiB/s':>10}{'seconds':>10}{'peak RSS MiB':>15}")
        for r in results:
            print(f"{r.name:<20}{r.rate(size):>10.1f}{r.seconds:>10.2f}{r.peak_rss_mib:>15.1f}"
                  + ("" if r.returncode == 0 else "  (FAILED)"))
        ours = results[0]
        for other in results[1:]:
            print(f"sessionrec / {other.name}: speed {ours.rate(size) / other.rate(size):.2f}x, "
                  f"peak RSS {ours.peak_rss_mib / other.peak_rss_mib:.2f}x")
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
