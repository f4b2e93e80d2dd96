"""Upload benchmark: the same file to the same local S3 server (moto, its own process).

Default (loopback): contenders, each in its own subprocess so wall time, CPU time and peak
RSS are its own: `sessionrec upload --wait` (default settings), boto3 `upload_file`
(default TransferConfig), and `aws s3 cp` (awscli in its own venv under bench/out, because
it pins an older botocore). The machine is shared and noisy, so the contenders run
alternately for `--rounds` rounds (the order rotates each round) and the figures are
medians. Besides wall time each run reports the CPU seconds it used and the CPU seconds the
server used while it ran: moto is a single Python process, and on a small machine it is the
bottleneck, so "server CPU" shows how much work a client makes it do. Then the resume run:
sessionrec through a FaultProxy, SIGKILLed at ~50 %, resumed; the proxy counts the bytes
sent again.

`--uplink`: the figures of bench/upload_uplink.py instead: a 1 MiB upload as a whole process
(sessionrec vs boto3), and 64 MiB / 256 MiB over simulated slow links with long round trips
as each tool's share of the link's limit.

    python -m bench.upload [--size-mib 1024] [--rounds 3] [--no-awscli] [--no-resume]
    python -m bench.upload --uplink [--rounds 3] [--small-rounds 5] [--no-awscli]
    ... [--baseline DIR]

`--baseline DIR` adds `sessionrec upload --wait` run from another checkout (for example the
commit before a change, `git worktree add` or `git archive` into DIR) as one more contender,
"sessionrec before", so a change is measured against the code before it in the same run,
same machine load.

Prints figures; asserts nothing. Goals: >= 1.0x boto3 on loopback, re-sent after kill <=
parts in flight x part size; for --uplink see bench/upload_uplink.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from app.upload.session.state_store import UploadStateStore
from bench import upload_uplink
from bench.upload_support import (
    BUCKET,
    MIB,
    OUT,
    REPO,
    Setup,
    awscli_venv,
    clean_bucket,
    compile_sources,
    run_measured,
    s3,
    start_server,
    stop_server,
)
from tests.s3support.proxy import FaultProxy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-awscli", action="store_true")
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--uplink", action="store_true",
                        help="the 1 MiB process figures and the simulated slow links instead")
    parser.add_argument("--small-rounds", type=int, default=5)
    parser.add_argument("--no-links", action="store_true", help="with --uplink: only the 1 MiB runs")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="also run sessionrec from this checkout (the code before a change)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    compile_sources([REPO] + ([args.baseline] if args.baseline else []))
    work = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=OUT))
    server, endpoint = start_server()
    try:
        client = s3(endpoint)
        client.create_bucket(Bucket=BUCKET)
        aws = None if args.no_awscli else awscli_venv()
        print(f"server: moto at {endpoint} (own process)")
        if args.uplink:
            upload_uplink.small_run(work, args.small_rounds, server.pid, endpoint, client,
                                    args.baseline)
            for scenario in () if args.no_links else upload_uplink.SCENARIOS:
                upload_uplink.link_run(work, scenario, args.rounds, server.pid, endpoint, client,
                                       aws, args.baseline)
            return
        setup = loopback_run(work, args.size_mib * MIB, args.rounds, server.pid, endpoint,
                             client, aws, args.baseline)
        if not args.no_resume:
            resume_run(setup, endpoint)
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


def loopback_run(work: Path, size: int, rounds: int, server_pid: int, endpoint: str, client: Any,
                 aws: Path | None, baseline: Path | None) -> Setup:
    setup = Setup.create(work / "loopback", size, endpoint)
    contenders = setup.contenders(endpoint, aws, baseline)
    print(f"file: {size / MIB:.0f} MiB on loopback")
    for round_no in range(rounds):
        shift = round_no % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            setup.reset()
            result = run_measured(contender.name, contender.cmd, setup.env, server_pid,
                                  contender.cwd)
            contender.runs.append(result)
            clean_bucket(client)
            print(f"  round {round_no + 1}: {contender.name:<18} {result.rate(size):7.1f} MiB/s "
                  f"{result.seconds:6.2f} s  cpu {result.cpu_seconds:5.2f} s  "
                  f"server cpu {result.server_cpu_seconds:5.2f} s  "
                  f"rss {result.peak_rss_mib:6.1f} MiB" + ("" if result.returncode == 0 else "  FAILED"),
                  flush=True)
    print(f"\nmedians of {rounds} rounds:")
    print(f"{'contender':<20}{'MiB/s':>8}{'seconds':>9}{'cpu s':>8}{'server cpu s':>14}"
          f"{'peak RSS MiB':>14}")
    for c in contenders:
        failed = len(c.runs) - len(c.ok_runs())
        print(f"{c.name:<20}{size / MIB / c.median('seconds'):>8.1f}{c.median('seconds'):>9.2f}"
              f"{c.median('cpu_seconds'):>8.2f}{c.median('server_cpu_seconds'):>14.2f}"
              f"{c.median('peak_rss_mib'):>14.1f}" + (f"  ({failed} FAILED)" if failed else ""))
    ours = contenders[0]
    for other in contenders[1:]:
        speed = other.median("seconds") / ours.median("seconds")
        print(f"sessionrec / {other.name}: speed {speed:.2f}x, "
              f"peak RSS {ours.median('peak_rss_mib') / other.median('peak_rss_mib'):.2f}x")
    return setup


def resume_run(setup: Setup, endpoint: str) -> None:
    """sessionrec through a counting proxy, SIGKILLed at ~50 %, then resumed."""
    host, port = endpoint.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port))
    store = UploadStateStore(setup.data_dir)
    setup.reset()
    setup.point_at(proxy.endpoint_url)
    cmd = setup.sessionrec_cmd()
    size = setup.size
    try:
        proc = subprocess.Popen(cmd, cwd=REPO, env=setup.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            if proxy.stats().body_bytes["UploadPart"] >= size // 2:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait()
        proxy.wait_idle()
        first = proxy.stats()
        state = store.get(setup.session_id)
        recorded = len(state.multipart.parts) if state and state.multipart else 0
        part_size = state.multipart.part_size if state and state.multipart else 0
        # Parts begun but not through when the process died.
        in_flight = len([p for p in first.part_requests if p not in first.parts_forwarded])
        proxy.reset_stats()
        started = time.monotonic()
        result = subprocess.run(cmd, cwd=REPO, env=setup.env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        second = proxy.stats()
        resent = sum(n for part, n in second.part_bytes.items() if part in first.part_requests)
        sent_total = first.body_bytes["UploadPart"] + second.body_bytes["UploadPart"]
        print(f"\nresume: killed after {first.body_bytes['UploadPart'] / MIB:.0f} MiB sent "
              f"({recorded} parts recorded, {in_flight} in flight); resume exit "
              f"{result.returncode} in {elapsed:.1f} s")
        print(f"resume: bytes re-sent for parts begun before the kill: {resent / MIB:.1f} MiB "
              f"(goal <= parts in flight x part size = {in_flight} x {part_size / MIB:.0f} MiB = "
              f"{in_flight * part_size / MIB:.0f} MiB)")
        print(f"resume: total sent over both runs {sent_total / MIB:.1f} MiB for a "
              f"{size / MIB:.0f} MiB file (overhead {(sent_total - size) / MIB:.1f} MiB)")
        print(json.dumps({"resentBytes": resent, "overheadBytes": sent_total - size}))
    finally:
        proxy.stop()


if __name__ == "__main__":
    main()
