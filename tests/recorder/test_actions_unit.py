"""Pure parts of the input log: key names and masking, move coalescing, action lines (no display)."""

from __future__ import annotations

import enum
import queue
from dataclasses import dataclass

from app.recorder.actions import MoveCoalescer, key_name
from app.recorder.input_log import ActionWriterThread, RawEvent, build_action
from app.recorder.timeline import FrameTimeline


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
    assert c.flush() == []


def test_build_action_fields() -> None:
    assert build_action(("click", 10, (5, 6, FakeKey.shift, True)), 3, False) == {
        "t": 10, "type": "click", "x": 5, "y": 6, "button": "shift", "pressed": True, "frame": 3}
    assert build_action(("scroll", 11, (5, 6, 0, -1)), 4, False)["dy"] == -1
    assert build_action(("key_down", 12, (FakeKeyCode("x"),)), 4, True)["key"] == "*"


def test_timeline_index_at() -> None:
    timeline = FrameTimeline()
    for t in (0, 100, 200):
        timeline.append(t, object())
    assert [timeline.index_at(t) for t in (-5, 0, 99, 100, 250)] == [0, 0, 0, 1, 2]


def test_writer_never_drops_clicks_or_keys_and_coalesces_moves(tmp_path) -> None:
    timeline = FrameTimeline()
    timeline.append(0, object())
    timeline.append(100, object())
    events: queue.SimpleQueue[RawEvent | None] = queue.SimpleQueue()
    for t in range(0, 200, 5):  # 40 moves over two frames
        events.put(("move", t, (t, t)))
        if t % 50 == 0:
            events.put(("key_down", t, (FakeKeyCode("a"),)))
        if t == 150:
            events.put(("click", t, (1, 2, FakeKey.enter, True)))
    events.put(None)
    path = tmp_path / "actions.jsonl"
    writer = ActionWriterThread(path, events, timeline, mask_keys=True,
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
