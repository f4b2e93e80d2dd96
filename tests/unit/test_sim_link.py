"""The simulated uplink of the test proxy (tests/s3support/link.py), on a fake clock."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.s3support.link import LinkTiming, SharedLink, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_chunks_are_carried_one_after_another_at_the_rate() -> None:
    clock = FakeClock()
    link = SharedLink(1000.0, keep_schedule=True, clock=clock, slack_sec=0.0)
    assert link.reserve(500) == 100.5
    assert link.reserve(250) == 100.75  # booked behind the first, though asked at the same time
    clock.now = 100.6
    assert link.reserve(100) == 100.85  # the link is still busy until 100.75
    assert [(s.start, s.end) for s in link.schedule] == [(100.0, 100.5), (100.5, 100.75),
                                                          (100.75, 100.85)]
    assert link.bytes_carried == 850
    assert link.busy_seconds == pytest.approx(0.85)


def test_an_idle_link_banks_no_more_than_its_slack() -> None:
    clock = FakeClock()
    link = SharedLink(1000.0, clock=clock, slack_sec=0.01)
    assert link.reserve(100) == pytest.approx(100.09)  # idle at the start: 10 ms of slack
    clock.now = 105.0  # idle for almost 5 s
    # No burst: a second of bytes still takes a second, less the slack.
    assert link.reserve(1000) == pytest.approx(105.99)
    clock.now = 105.5
    assert link.reserve(500) == pytest.approx(106.49)  # busy: booked behind, slack unused
    assert link.busy_seconds == pytest.approx(1.6)


def test_parallel_senders_share_the_link_without_overlap() -> None:
    link = SharedLink(1e9, keep_schedule=True)  # fast: the real clock, no waiting worth noting
    def send() -> None:
        for _ in range(200):
            link.reserve(1000)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots = link.schedule
    assert len(slots) == 800 and link.bytes_carried == 800_000
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))


def test_link_timing_in_megabits() -> None:
    timing = LinkTiming.mbit(20, 150)
    assert timing.bytes_per_sec == 2_500_000
    assert timing.rtt_sec == 0.15
    with pytest.raises(ValueError):
        SharedLink(0)


def test_wait_until_returns_false_when_stopped() -> None:
    stopping = threading.Event()
    stopping.set()
    clock = FakeClock()
    assert wait_until(clock.now + 60, stopping, clock) is False
    assert wait_until(clock.now - 1, stopping, clock) is True  # already past: no wait
