"""The uplink figures of bench/upload.py (`--uplink`): what one upload costs as a process,
and how much of a slow, long-RTT link each tool uses.

1. A 1 MiB upload as a whole process, straight to the server: `sessionrec upload ID --wait`
   against a boto3 `upload_file` script (wall time and peak RSS; goals <= 1.2x boto3's wall,
   <= boto3's RSS + 10 MiB).
2. 64 MiB over 20 Mbit/s with 150 ms RTT and 256 MiB over 100 Mbit/s with 40 ms RTT, through
   a FaultProxy simulating the link (tests/s3support/link.py: one bandwidth cap shared by all
   request bodies, a round trip per request and per `Expect: 100-continue`): sessionrec,
   boto3 and the AWS CLI, each as its share of the link's limit (file size / link rate,
   divided by the time taken; goal >= 0.98 and ahead of both). Two shares per run: over the
   whole process (start-up included), and over the link window (the proxy's first request
   to its last answer, so a tool's start-up is left out). The server (moto, one Python
   process) takes 0.3-1 s to complete a 64-256 MiB object, the same for every tool; that
   time is printed too ("complete s", the server's own time for CompleteMultipartUpload),
   with the window share it leaves out, which is what a tool's own use of the link decides.

Contenders alternate, the order rotating each round; figures are medians.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from bench.upload_support import MIB, Contender, Setup, clean_bucket, run_measured
from tests.s3support.link import LinkTiming
from tests.s3support.proxy import FaultProxy, Stats

OPS_SHOWN = ("CreateMultipartUpload", "UploadPart", "PutObject", "CompleteMultipartUpload",
             "HeadObject", "ListParts", "HeadBucket")


@dataclasses.dataclass(frozen=True)
class LinkScenario:
    size_mib: int
    megabits: float
    rtt_ms: float

    @property
    def timing(self) -> LinkTiming:
        return LinkTiming.mbit(self.megabits, self.rtt_ms)

    def label(self) -> str:
        return f"{self.size_mib} MiB over {self.megabits:g} Mbit/s, {self.rtt_ms:g} ms RTT"


SCENARIOS = (LinkScenario(64, 20, 150), LinkScenario(256, 100, 40))


def _rotated(contenders: list[Contender], round_no: int) -> list[Contender]:
    shift = round_no % len(contenders)
    return contenders[shift:] + contenders[:shift]


def small_run(work: Path, rounds: int, server_pid: int, endpoint: str, client: Any,
              baseline: Path | None = None) -> None:
    setup = Setup.create(work / "small", MIB, endpoint)
    contenders = setup.contenders(endpoint, None, baseline)
    print(f"\n1 MiB as a whole process, straight to the server ({rounds} alternating rounds)")
    for round_no in range(rounds):
        for contender in _rotated(contenders, round_no):
            setup.reset()
            result = run_measured(contender.name, contender.cmd, setup.env, server_pid,
                                  contender.cwd)
            contender.runs.append(result)
            clean_bucket(client)
            print(f"  round {round_no + 1}: {contender.name:<18} {result.seconds:6.3f} s  "
                  f"cpu {result.cpu_seconds:5.2f} s  rss {result.peak_rss_mib:6.1f} MiB"
                  + ("" if result.returncode == 0 else "  FAILED"), flush=True)
    ours, boto3 = contenders[:2]
    print(f"{'contender':<20}{'seconds':>9}{'cpu s':>8}{'peak RSS MiB':>14}")
    for c in contenders:
        print(f"{c.name:<20}{c.median('seconds'):>9.3f}{c.median('cpu_seconds'):>8.2f}"
              f"{c.median('peak_rss_mib'):>14.1f}")
    print(f"sessionrec / boto3: wall {ours.median('seconds') / boto3.median('seconds'):.2f}x "
          f"(goal <= 1.2x), peak RSS {ours.median('peak_rss_mib') - boto3.median('peak_rss_mib'):+.1f}"
          " MiB (goal <= +10 MiB)")
    for before in contenders[2:]:
        print(f"sessionrec before / boto3: wall {before.median('seconds') / boto3.median('seconds'):.2f}x, "
              f"peak RSS {before.median('peak_rss_mib') - boto3.median('peak_rss_mib'):+.1f} MiB")


def _request_summary(stats: Stats) -> str:
    shown = []
    for op in OPS_SHOWN:
        if stats.requests[op]:
            expect = stats.expect_continue[op]
            shown.append(f"{op} {stats.requests[op]}" + (f" ({expect} with Expect)" if expect else ""))
    others = Counter({k: v for k, v in stats.requests.items() if k not in OPS_SHOWN})
    shown += [f"{op} {n}" for op, n in sorted(others.items())]
    return ", ".join(shown)


def link_run(work: Path, scenario: LinkScenario, rounds: int, server_pid: int, endpoint: str,
             client: Any, awscli: Path | None, baseline: Path | None = None) -> None:
    host, port = endpoint.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port))
    proxy.set_link(scenario.timing)
    try:
        setup = Setup.create(work / f"link-{scenario.size_mib}", scenario.size_mib * MIB,
                             proxy.endpoint_url)
        rate = scenario.timing.bytes_per_sec
        assert rate is not None
        limit_s = setup.size / rate
        contenders = setup.contenders(proxy.endpoint_url, awscli, baseline)
        summaries: dict[str, str] = {}
        print(f"\n{scenario.label()}: the link's limit is {limit_s:.2f} s "
              f"({rounds} alternating rounds)")
        for round_no in range(rounds):
            for contender in _rotated(contenders, round_no):
                setup.reset()
                proxy.reset_stats()
                result = run_measured(contender.name, contender.cmd, setup.env, server_pid,
                                      contender.cwd)
                proxy.wait_idle()
                stats = proxy.stats()
                window = stats.window()
                result.extra["share_process"] = limit_s / result.seconds
                result.extra["share_window"] = (limit_s / (window[1] - window[0])
                                                if window else float("nan"))
                result.extra["window_s"] = (window[1] - window[0]) if window else float("nan")
                completes = [t.server_answered_at - t.body_done_at for t in stats.timings
                             if t.operation == "CompleteMultipartUpload"]
                result.extra["complete_s"] = sum(completes)
                result.extra["share_client"] = (limit_s / (window[1] - window[0] - sum(completes))
                                                if window else float("nan"))
                contender.runs.append(result)
                summaries[contender.name] = _request_summary(stats)
                clean_bucket(client)
                print(f"  round {round_no + 1}: {contender.name:<18} {result.seconds:6.2f} s  "
                      f"share {result.extra['share_process']:.3f} (window "
                      f"{result.extra['share_window']:.3f}, without the server's completion "
                      f"{result.extra['share_client']:.3f})  cpu {result.cpu_seconds:5.2f} s  "
                      f"rss {result.peak_rss_mib:6.1f} MiB"
                      + ("" if result.returncode == 0 else "  FAILED"), flush=True)
        print(f"{'contender':<20}{'seconds':>9}{'share':>8}{'window s':>10}{'share (window)':>16}"
              f"{'complete s':>12}{'w/o complete':>14}{'cpu s':>8}{'peak RSS MiB':>14}")
        for c in contenders:
            print(f"{c.name:<20}{c.median('seconds'):>9.2f}{c.median('share_process'):>8.3f}"
                  f"{c.median('window_s'):>10.2f}{c.median('share_window'):>16.3f}"
                  f"{c.median('complete_s'):>12.2f}{c.median('share_client'):>14.3f}"
                  f"{c.median('cpu_seconds'):>8.2f}{c.median('peak_rss_mib'):>14.1f}")
        for c in contenders:
            print(f"  requests of one {c.name} run: {summaries.get(c.name, '?')}")
        for field, words in (("share_process", "share"), ("share_window", "window share"),
                             ("share_client", "window share without the server's completion")):
            best_other = max((c.median(field) for c in contenders[1:]
                              if c.name != "sessionrec before"), default=float("nan"))
            ours = contenders[0].median(field)
            print(f"sessionrec {words} {ours:.3f} (goal >= 0.98), best other {best_other:.3f}: "
                  f"{'ahead' if ours > best_other else 'behind'} by {ours - best_other:+.3f}; "
                  f"spread {_spread(contenders[0], field)}")
    finally:
        proxy.stop()


def _spread(contender: Contender, field: str) -> str:
    values = [r.extra[field] for r in contender.ok_runs()]
    if len(values) < 2:
        return "n/a"
    return f"{min(values):.3f}-{max(values):.3f} (sd {statistics.stdev(values):.3f})"
