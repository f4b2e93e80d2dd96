"""The viewer's timeline rules (rows from actions.jsonl) and the frame/time map, without a display."""

from __future__ import annotations

from typing import Any

from app.models import PauseSpan
from app.playback.frame_index import FrameIndex
from app.playback.timeline import (
    MASKED,
    Action,
    Timeline,
    build_rows,
    format_session_time,
    parse_action,
)


def actions(*raw: dict[str, Any]) -> list[Action]:
    out = []
    for line, value in enumerate(raw):
        action = parse_action(line, value)
        assert action is not None, value
        out.append(action)
    return out


def click(t: int, x: int, y: int, pressed: bool = True, button: str = "left", frame: int = 0) -> dict:
    return {"t": t, "type": "click", "x": x, "y": y, "button": button, "pressed": pressed, "frame": frame}


def key(t: int, name: str, down: bool = True, frame: int = 0) -> dict:
    return {"t": t, "type": "key_down" if down else "key_up", "key": name, "frame": frame}


def typed(t: int, text: str, step: int = 50, frame: int = 0) -> list[dict]:
    out = []
    for i, ch in enumerate(text):
        out += [key(t + i * step, ch, frame=frame), key(t + i * step + 20, ch, down=False, frame=frame)]
    return out


def test_one_row_per_click_scroll_and_key_run() -> None:
    acts = actions(
        {"t": 50, "type": "move", "x": 5, "y": 5, "frame": 0},
        click(100, 10, 20, frame=1), click(180, 10, 20, pressed=False, frame=1),
        *typed(400, "hello"), key(700, "enter"), key(720, "enter", down=False),
        {"t": 1000, "type": "scroll", "x": 3, "y": 4, "dx": 0, "dy": -1, "frame": 9},
        {"t": 1100, "type": "scroll", "x": 3, "y": 4, "dx": 0, "dy": -1, "frame": 10},
        {"t": 1200, "type": "scroll", "x": 3, "y": 4, "dx": 0, "dy": -1, "frame": 11},
        click(1500, 30, 40, button="right", frame=14), click(1550, 30, 40, pressed=False,
                                                          button="right", frame=14),
    )
    rows = build_rows(acts, [], video_frames=100, masked=False)
    assert [(r.kind, r.t_ms, r.text) for r in rows] == [
        ("click", 100, "Left click at 10, 20"),
        ("keys", 400, "Typed hello⏎"),
        ("scroll", 1000, "Scrolled down 3 at 3, 4"),
        ("click", 1500, "Right click at 30, 40"),
    ]
    assert rows[0].lines == (1, 2) and rows[0].frame == 1 and (rows[0].x, rows[0].y) == (10, 20)
    assert rows[2].frame == 9 and rows[2].end_ms == 1200
    assert [t for t, _ in rows[1].keys] == [400, 450, 500, 550, 600, 700]
    assert not any(r.after_video for r in rows)


def test_key_runs_split_on_a_pause_in_typing_and_on_clicks() -> None:
    acts = actions(*typed(0, "ab"), *typed(5000, "cd"), click(5200, 1, 1), *typed(5300, "ef"))
    texts = [r.text for r in build_rows(acts, [], 10, masked=False)]
    assert texts == ["Typed ab", "Typed cd", "Left click at 1, 1", "Typed ef"]


def test_masked_keys_are_shown_masked_and_names_and_chords_are_readable() -> None:
    masked_rows = build_rows(actions(*typed(0, "****"), key(300, "space"), key(400, "enter")),
                             [], 10, masked=True)
    assert [r.text for r in masked_rows] == [f"Typed {MASKED * 5}⏎ (masked)"]
    # Without maskKeys a "*" is a star someone typed.
    assert build_rows(actions(*typed(0, "2*3")), [], 10, masked=False)[0].text == "Typed 2*3"
    chord = actions(key(0, "ctrl_l"), key(10, "c"), key(20, "c", down=False),
                    key(30, "ctrl_l", down=False), key(100, "shift"), key(110, "A"),
                    key(120, "shift", down=False), key(200, "f5"), key(300, "backspace"),
                    key(400, "alt"), key(420, "alt", down=False))
    assert build_rows(chord, [], 10, masked=False)[0].text == "Typed [Ctrl+C]A[F5]⌫[Alt]"


def test_a_release_away_from_its_press_is_a_drag() -> None:
    rows = build_rows(actions(click(0, 10, 10), click(300, 200, 90, pressed=False)), [], 10, False)
    assert rows[0].text == "Left drag from 10, 10 to 200, 90" and rows[0].end_ms == 300


def test_pauses_are_rows_and_actions_after_the_video_are_marked() -> None:
    frames = FrameIndex((40, 140, 240, 340))
    acts = actions(click(100, 1, 1, frame=0), click(2500, 2, 2, frame=4), *typed(2600, "x", frame=4))
    rows = build_rows(acts, [PauseSpan(400, 2400)], video_frames=frames.count, masked=False,
                      frame_at=frames.index_at)
    assert [(r.kind, r.after_video) for r in rows] == [
        ("click", False), ("pause", False), ("click", True), ("keys", True)]
    assert rows[1].text == "Recording paused for 2.0 s" and rows[1].frame == 3
    # No video at all: nothing is "after the end".
    assert not any(r.after_video for r in build_rows(acts, [], None, masked=False))


def test_lookups_at_a_moment() -> None:
    acts = actions({"t": 0, "type": "move", "x": 1, "y": 1, "frame": 0}, click(1000, 50, 60),
                   {"t": 1500, "type": "move", "x": 70, "y": 80, "frame": 0}, *typed(3000, "hi", 100))
    timeline = Timeline(build_rows(acts, [], 100, False), acts)
    assert timeline.row_at(999) is None and timeline.row_at(1000) == 0 and timeline.row_at(2999) == 0
    assert timeline.row_at(3000) == 1
    assert timeline.pointer_at(-1) is None and timeline.pointer_at(1200) == (50, 60)
    assert timeline.pointer_at(1500) == (70, 80)
    assert timeline.clicks_near(740) == [] and [m.x for m in timeline.clicks_near(760)] == [50]
    assert [m.x for m in timeline.clicks_near(1250)] == [50] and timeline.clicks_near(1260) == []
    assert timeline.caption_at(2999) is None and timeline.caption_at(3050) == "h"
    assert timeline.caption_at(3100) == "hi" and timeline.caption_at(3100 + 1500) == "hi"
    assert timeline.caption_at(3100 + 1501) is None


def test_bad_lines_are_refused_by_shape() -> None:
    for bad in ([1], {"t": -1, "type": "move", "x": 1, "y": 1, "frame": 0},
                {"t": 1, "type": "teleport", "frame": 0}, {"t": 1, "type": "move", "frame": 0},
                {"t": 1, "type": "click", "x": 1, "y": 1, "frame": 0},
                {"t": 1, "type": "key_down", "key": "", "frame": 0},
                {"t": True, "type": "move", "x": 1, "y": 1, "frame": 0}):
        assert parse_action(0, bad) is None, bad


def test_frame_index_maps_video_time_and_session_time() -> None:
    frames = FrameIndex((37, 137, 238, 337))
    assert frames.offset_ms == 37 and frames.video_ms_of(2) == 201
    assert frames.index_at(0) == 0 and frames.index_at(237) == 1 and frames.index_at(238) == 2
    assert frames.index_at(10_000) == 3
    assert frames.index_of_video_ms(201) == 2 and frames.index_of_video_ms(199.6) == 2
    assert frames.index_of_video_ms(-5) == 0 and frames.index_of_video_ms(9999) == 3
    assert frames.t_of(99) == 337 and FrameIndex(()).index_at(5) == 0
    assert frames.shown_until(0) == 136 and frames.shown_until(3) == 435


def test_session_time_format() -> None:
    assert format_session_time(5_349) == "0:05.3"
    assert format_session_time(727_000) == "12:07.0"
    assert format_session_time(3_723_450) == "1:02:03.4"
