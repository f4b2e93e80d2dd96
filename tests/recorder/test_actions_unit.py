"""Pure parts of the input log: key names and masking, move coalescing, action lines (no display)."""

from __future__ import annotations

import enum
import queue
import threading
import time
from dataclasses import dataclass

from app.recorder.actions import MOVE_REST_MS, MoveCoalescer, key_name
from app.recorder.input_log import ActionWriterThread, RawEvent, build_action
from app.recorder.timeline import MAX_HELD, FrameTimeline


@dataclass
class FakeKeyCode:
    char: str | None = None
    vk: int | None = None


class FakeKey(enum.Enum):
    shift = 1
    enter = 2
    space = 3


def test_key_names_unmasked() -> None:
    assert key_name(FakeKeyCode("h"), mask=False) == "h"
    assert key_name(FakeKey.shift, mask=False) == "shift"
    assert key_name(FakeKey.space, mask=False) == "space"
    assert key_name(FakeKeyCode(None, 65027), mask=False) == "vk65027"


def test_mask_hides_printable_keys_and_keeps_special_ones() -> None:
    for char in ("h", "A", "1", "é", "?"):
        assert key_name(FakeKeyCode(char), mask=True) == "*"
    assert key_name(FakeKey.space, mask=True) == "*"
    assert key_name(FakeKey.enter, mask=True) == "enter"
    assert key_name(FakeKey.shift, mask=True) == "shift"
    # A control character is not text: kept even when masking.
    assert key_name(FakeKeyCode("\x03"), mask=True) == "\x03"


def move(t: int, frame: int, x: int = 0) -> dict[str, object]:
    return {"t": t, "type": "move", "x": x, "y": 0, "frame": frame}


def test_coalescer_keeps_last_move_per_frame_and_order() -> None:
    c = MoveCoalescer()
    out: list[dict[str, object]] = []
    out += c.add(move(1, 0, 1))
    out += c.add(move(2, 0, 2))
    out += c.add(move(3, 0, 3))
    out += c.add(move(4, 1, 4))  # new frame: frame 0's last move goes out
    out += c.add({"t": 5, "type": "click", "frame": 1})  # a click flushes the pending move first
    out += c.add(move(6, 1, 6))
    out += c.flush_before(1)  # same frame: still pending
    assert c.pending is not None
    out += c.flush_before(2)
    assert [(a["type"], a["t"]) for a in out] == [
        ("move", 3), ("move", 4), ("click", 5), ("move", 6)]


def test_a_pending_move_is_released_when_its_frame_ends_or_the_pointer_rests() -> None:
    c = MoveCoalescer()
    c.add(move(100, 1, 7))
    assert c.release_due(newest_frame=1, now_ms=100 + MOVE_REST_MS - 1) == []
    assert c.due_in_ms(100 + MOVE_REST_MS - 1, next_frame_ms=200) == 1
    assert [a["x"] for a in c.release_due(1, 100 + MOVE_REST_MS)] == [7]  # the pointer rested
    c.add(move(110, 1, 8))
    assert c.due_in_ms(115, next_frame_ms=120) == 5  # the next frame comes first
    assert [a["x"] for a in c.release_due(2, 121)] == [8]  # frame 1 ended
    assert c.due_in_ms(121, 200) is None
    assert c.flush() == []


def test_build_action_fields() -> None:
    assert build_action(("click", 10, (5, 6, FakeKey.shift, True)), 3, False) == {
        "t": 10, "type": "click", "x": 5, "y": 6, "button": "shift", "pressed": True, "frame": 3}
    assert build_action(("scroll", 11, (5, 6, 0, -1)), 4, False)["dy"] == -1
    assert build_action(("key_down", 12, (FakeKeyCode("x"),)), 4, True)["key"] == "*"


class FakeClock:
    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def timeline_with(times: list[int], now: int = 10_000) -> FrameTimeline:
    clock = FakeClock()
    timeline = FrameTimeline(clock)
    for t in times:
        clock.now = t
        timeline.begin_frame()
        timeline.commit_frame(object())
    clock.now = now
    return timeline


def test_timeline_index_at() -> None:
    timeline = timeline_with([0, 100, 200])
    assert [timeline.index_at(t) for t in (-5, 0, 99, 100, 250)] == [0, 0, 0, 1, 2]
    assert [timeline.frame_at(t) for t in (-5, 0, 99, 100, 250)] == [0, 0, 0, 1, 2]


def test_an_action_during_a_grab_waits_for_that_frame() -> None:
    clock = FakeClock(0)
    timeline = FrameTimeline(clock)
    timeline.begin_frame()
    timeline.commit_frame("frame 0")
    clock.now = 100
    assert timeline.begin_frame() == 100  # frame 1: captured at 100, still being grabbed
    clock.now = 103
    answers: list[int] = []
    waiter = threading.Thread(target=lambda: answers.append(timeline.frame_at(101)))
    waiter.start()
    time.sleep(0.05)
    assert not answers, "named a frame before the grab of t=100 was registered"
    assert timeline.frame_at(99) == 0  # an action before the grab started does not wait
    timeline.commit_frame("frame 1")
    waiter.join(2)
    assert answers == [1] and timeline.late_lookups == 0


def test_an_action_during_a_dropped_grab_takes_the_frame_before() -> None:
    clock = FakeClock(0)
    timeline = FrameTimeline(clock)
    timeline.begin_frame()
    timeline.commit_frame("frame 0")
    clock.now = 100
    timeline.begin_frame()
    clock.now = 102
    threading.Timer(0.05, timeline.cancel_frame).start()
    assert timeline.frame_at(101) == 0 and len(timeline) == 1


def test_an_action_waits_for_the_clock_to_pass_its_millisecond() -> None:
    clock = FakeClock(0)
    timeline = FrameTimeline(clock)
    timeline.begin_frame()
    timeline.commit_frame("frame 0")
    clock.now = 100  # an action stamped 100; a frame captured at 100 may still begin

    def capture_at_100() -> None:
        timeline.begin_frame()
        timeline.commit_frame("frame 1")
        clock.now = 101

    threading.Timer(0.05, capture_at_100).start()
    assert timeline.frame_at(100) == 1


def test_a_stalled_grab_is_waited_for_only_so_long() -> None:
    clock = FakeClock(0)
    timeline = FrameTimeline(clock)
    timeline.begin_frame()
    timeline.commit_frame("frame 0")
    clock.now = 100
    timeline.begin_frame()
    clock.now = 200
    started = time.monotonic()
    assert timeline.frame_at(150, timeout_s=0.1) == 0
    assert 0.09 <= time.monotonic() - started < 1.0 and timeline.late_lookups == 1


class ClockedEvents:
    """An event queue whose clock reads just after the event taken last, as if each event were
    processed the moment it happened."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.items: queue.SimpleQueue[RawEvent | None] = queue.SimpleQueue()

    def put(self, item: RawEvent | None) -> None:
        self.items.put(item)

    def get(self, timeout: float | None = None) -> RawEvent | None:
        item = self.items.get_nowait()
        if item is not None:
            self.clock.now = item[1] + 1
        return item


def test_writer_never_drops_clicks_or_keys_and_coalesces_moves(tmp_path) -> None:
    clock = FakeClock()
    timeline = FrameTimeline(clock)
    for t in (0, 100):
        clock.now = t
        timeline.begin_frame()
        timeline.commit_frame(object())
    events = ClockedEvents(clock)
    for t in range(0, 200, 5):  # 40 moves over two frames
        events.put(("move", t, (t, t)))
        if t % 50 == 0:
            events.put(("key_down", t, (FakeKeyCode("a"),)))
        if t == 150:
            events.put(("click", t, (1, 2, FakeKey.enter, True)))
    events.put(None)
    path = tmp_path / "actions.jsonl"
    writer = ActionWriterThread(path, events, timeline, mask_keys=True,  # type: ignore[arg-type]
                                screenshot_for_click=lambda t, f: f"screenshots/c{t}.png")
    writer.run()
    import json

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [a["t"] for a in lines] == sorted(a["t"] for a in lines)
    keys = [a for a in lines if a["type"] == "key_down"]
    assert [a["t"] for a in keys] == [0, 50, 100, 150] and {a["key"] for a in keys} == {"*"}
    clicks = [a for a in lines if a["type"] == "click"]
    assert clicks[0]["screenshot"] == "screenshots/c150.png" and clicks[0]["frame"] == 1
    moves = [a for a in lines if a["type"] == "move"]
    # Moves between two other actions on the same frame collapse to the last one.
    per_gap: dict[tuple[int, int], int] = {}
    gap = 0
    for action in lines:
        if action["type"] != "move":
            gap += 1
            continue
        per_gap[(gap, action["frame"])] = per_gap.get((gap, action["frame"]), 0) + 1
    assert max(per_gap.values()) == 1
    assert moves[-1]["x"] == 195  # the last position is kept
    assert writer.written == len(lines)


def test_a_click_holds_its_frame_until_its_screenshot_is_queued() -> None:
    clock = FakeClock(0)
    timeline = FrameTimeline(clock)

    def frame(t: int) -> None:
        clock.now = t
        timeline.begin_frame()
        timeline.commit_frame(f"pixels {t}")

    frame(0)
    frame(100)
    assert timeline.pixels_at(0) == (1, "pixels 100")  # only the newest is kept
    token = timeline.hold()  # a click at ~150: frame 1 is on screen
    frame(200)
    frame(300)
    assert timeline.pixels_at(1) == (1, "pixels 100")  # still there for the click
    timeline.release(token)
    assert timeline.pixels_at(1) == (3, "pixels 300")
    leaked = timeline.hold()  # a hold never released keeps at most MAX_HELD frames
    for t in range(400, 400 + 100 * (MAX_HELD + 5), 100):
        frame(t)
    assert len(timeline._recent) == MAX_HELD
    timeline.release(leaked)
    assert len(timeline._recent) == 1
