"""The pure parts of following the X keyboard mapping (no display)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from app.recorder.actions import key_name
from app.recorder.x_keymap import KeymapOverlay, parse_keymap_requests

E_ACUTE, EURO = 0xE9, 0x10020AC


def change_keyboard_mapping(first: int, keysyms: list[list[int]], big: bool = False) -> bytes:
    per = len(keysyms[0])
    body = struct.pack("=BBxx", first, per) + b"".join(struct.pack(f"={per}I", *s) for s in keysyms)
    if big:
        return struct.pack("=BBHI", 100, len(keysyms), 0, (8 + len(body)) // 4) + body
    return struct.pack("=BBH", 100, len(keysyms), (4 + len(body)) // 4) + body


def test_parse_change_keyboard_mapping_requests() -> None:
    data = (change_keyboard_mapping(8, [[E_ACUTE]]) + change_keyboard_mapping(8, [[0]])
            + change_keyboard_mapping(200, [[1, 2], [3, 4]], big=True))
    assert list(parse_keymap_requests(data)) == [
        (8, [[E_ACUTE]]), (8, [[0]]), (200, [[1, 2], [3, 4]])]


def test_parse_skips_other_requests_and_stops_at_a_cut_one() -> None:
    other = struct.pack("=BBH", 43, 0, 1)  # a one-unit request of another kind
    data = other + change_keyboard_mapping(9, [[EURO]])
    assert list(parse_keymap_requests(data)) == [(9, [[EURO]])]
    assert list(parse_keymap_requests(data[:-2])) == []


def test_overlay_follows_requests_in_stream_order() -> None:
    overlay = KeymapOverlay()
    assert overlay.keysym(8, 0) is None  # not remapped: the cached mapping answers
    overlay.apply_request(8, [[E_ACUTE]])
    assert overlay.keysym(8, 0) == E_ACUTE
    assert overlay.keysym(8, 1) == E_ACUTE  # Shift with a one-keysym entry falls back
    overlay.apply_request(8, [[0]])
    assert overlay.keysym(8, 0) == 0 and overlay.covers(8)  # unbound again, authoritatively


def test_notifies_answering_a_request_are_not_read_again() -> None:
    overlay = KeymapOverlay()
    overlay.apply_request(8, [[E_ACUTE]])
    # One notify per client follows the request: none asks for a server read.
    assert [overlay.on_notify(1, 8, 1) for _ in range(3)] == [False, False, False]
    overlay.on_other()
    # A change that came another way (an XKB layout switch) is read once per run of notifies,
    # and the keycodes it covers drop their remapping.
    assert [overlay.on_notify(1, 8, 248) for _ in range(3)] == [True, False, False]
    assert overlay.keysym(8, 0) is None
    assert overlay.on_notify(0, 0, 0) is False  # a modifier mapping change is not about keysyms


@dataclass
class FakeKeyCode:
    char: str | None = None
    vk: int | None = None


def test_unicode_keysyms_are_named_by_their_character() -> None:
    assert key_name(FakeKeyCode(vk=EURO), False) == "€"
    assert key_name(FakeKeyCode(vk=EURO), True) == "*"
    assert key_name(FakeKeyCode(vk=0), False) == "vk0"
    assert key_name(FakeKeyCode(vk=65), False) == "vk65"
