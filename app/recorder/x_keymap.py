"""Keeping the X keyboard listener's key mapping current while recording.

pynput's X keyboard listener reads the keyboard mapping once, at start. A mapping made later —
`xdotool type 'é'` binds é to a spare keycode for one keystroke, input methods and `xmodmap` do
the same — then turns keys into `"vk0"`. Worse, such a mapping often lasts only between a key's
press and its release (xdotool rebinds the keycode before sending the release), so asking the
server for the mapping when the key arrives is already too late.

So the mapping is followed *in the order of the input*: the listener's X RECORD context also
records every client's ChangeKeyboardMapping request (the new keysyms are in the request) and the
MappingNotify events the server sends. RECORD delivers requests and device events in one stream,
in the order the server processed them, so each key is read with the mapping that was in force
when it was pressed. Changes that do not come as a core request (an XKB layout switch) are
announced by MappingNotify: those keycodes are read again from the server. A key whose keycode has
no symbol in the cached mapping is read again too, once. A key's release is named like its press
(the mapping, or Shift, may have changed in between: it is still the same key).

`KeymapOverlay` and `parse_keymap_requests` are pure (unit-tested without X); `track_keymap`
extends pynput's Xorg listener class with them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

X_CHANGE_KEYBOARD_MAPPING = 100  # core protocol opcode
MAPPING_KEYBOARD = 1  # MappingNotify.request for a keyboard mapping change
KEY_PRESS, KEY_RELEASE, MAPPING_NOTIFY = 2, 3, 34


def parse_keymap_requests(data: bytes) -> Iterator[tuple[int, list[list[int]]]]:
    """(first keycode, keysyms of each keycode) of every ChangeKeyboardMapping request in a block
    of recorded client protocol (native byte order: RECORD sends it in the recording client's)."""
    pos = 0
    while pos + 4 <= len(data):
        opcode, count, length = struct.unpack_from("=BBH", data, pos)
        header = 4
        if length == 0:  # BIG-REQUESTS: the length is in the next 4 bytes
            if pos + 8 > len(data):
                return
            (length,) = struct.unpack_from("=I", data, pos + 4)
            header = 8
        size = length * 4
        if size < header or pos + size > len(data):
            return  # not a whole request: nothing more can be read safely
        if opcode == X_CHANGE_KEYBOARD_MAPPING and size >= header + 4:
            first, per = struct.unpack_from("=BB", data, pos + header)
            n = count * per
            if per and header + 4 + 4 * n <= size:
                syms = struct.unpack_from(f"={n}I", data, pos + header + 4)
                yield first, [list(syms[i * per:(i + 1) * per]) for i in range(count)]
        pos += size


class KeymapOverlay:
    """The keysyms of keycodes remapped while recording, as of the point of the input stream
    being read; keycodes not remapped fall through to the mapping cached at start."""

    def __init__(self) -> None:
        self.remapped: dict[int, list[int]] = {}
        self._echo: tuple[int, int] | None = None
        self._last_foreign: tuple[int, int] | None = None

    def apply_request(self, first: int, keysyms: list[list[int]]) -> None:
        for offset, syms in enumerate(keysyms):
            self.remapped[first + offset] = syms
        # The server answers the request with one MappingNotify per client, right after it.
        self._echo = (first, len(keysyms))
        self._last_foreign = None

    def on_notify(self, request: int, first: int, count: int) -> bool:
        """A MappingNotify in the stream; True when the keycodes must be read from the server
        (a change that did not come as a recorded request, seen for the first time)."""
        if request != MAPPING_KEYBOARD or (first, count) in (self._echo, self._last_foreign):
            return False
        self._last_foreign = (first, count)
        for keycode in range(first, first + count):
            self.remapped.pop(keycode, None)
        return True

    def on_other(self) -> None:
        """Any other element of the stream ends the run of notifies answering one change."""
        self._echo = None
        self._last_foreign = None

    def covers(self, keycode: int) -> bool:
        return keycode in self.remapped

    def keysym(self, keycode: int, index: int) -> int | None:
        """The keysym at `index` (0 plain, 1 Shift, 2 AltGr, 3 both) with pynput's fallbacks, or
        None when the keycode was not remapped."""
        syms = self.remapped.get(keycode)
        if syms is None:
            return None
        while True:
            if index < len(syms) and syms[index]:
                return syms[index]
            if index & 2:
                index &= ~2
            elif index & 1:
                index &= ~1
            else:
                return 0


def is_unmapped(key: Any) -> bool:
    """pynput's key for a keycode with no keysym: a KeyCode with vk 0 and no character."""
    return getattr(key, "vk", None) == 0 and not getattr(key, "char", None)


def track_keymap(listener_class: type[Any]) -> type[Any]:
    """pynput's Xorg keyboard Listener class, following mapping changes as described above."""
    from pynput._util import AbstractListener
    from Xlib import X  # type: ignore[import-untyped]
    from Xlib.ext import record  # type: ignore[import-untyped]
    from Xlib.protocol import event as xevent  # type: ignore[import-untyped]

    ranges = [
        _record_range(device_events=(KEY_PRESS, KEY_RELEASE)),
        _record_range(core_requests=(X_CHANGE_KEYBOARD_MAPPING, X_CHANGE_KEYBOARD_MAPPING),
                      delivered_events=(MAPPING_NOTIFY, MAPPING_NOTIFY)),
    ]

    class KeymapTrackingListener(listener_class):
        def _initialize(self, display: Any) -> None:
            super()._initialize(display)
            self._overlay = KeymapOverlay()
            self._down: dict[int, Any] = {}
            # Runs before the context is enabled; the device-event range is repeated in case
            # the server replaces, rather than adds to, the ranges of a registered client.
            display.record_register_clients(self._context, 0, [record.AllClients], ranges)
            display.sync()

        @AbstractListener._emitter  # type: ignore[untyped-decorator,unused-ignore]
        def _handler(self, events: Any) -> None:
            if not self.running:
                raise self.StopException()
            if events.category == record.FromClient:
                for first, keysyms in parse_keymap_requests(bytes(events.data)):
                    self._overlay.apply_request(first, keysyms)
                return
            data = events.data
            while data and len(data):
                event, data = self._EVENT_PARSER.parse_binary_value(
                    data, self._display_record.display, None, None)
                if event.type == X.MappingNotify:
                    if self._overlay.on_notify(event.request, event.first_keycode, event.count):
                        self._display_stop.refresh_keyboard_mapping(event)
                    continue
                self._overlay.on_other()
                self._handle_message(self._display_stop, event, event.send_event)

        def _keycode_to_keysym(self, display: Any, keycode: int, index: int) -> int:
            overlay: KeymapOverlay | None = getattr(self, "_overlay", None)
            keysym = overlay.keysym(keycode, index) if overlay is not None else None
            if keysym is not None:
                return keysym
            return int(super()._keycode_to_keysym(display, keycode, index))

        def _event_to_key(self, display: Any, event: Any) -> Any:
            keycode = event.detail
            if event.type == X.KeyRelease and keycode in self._down:
                return self._down.pop(keycode)
            key = super()._event_to_key(display, event)
            if is_unmapped(key) and not self._overlay.covers(keycode):
                # No symbol in the mapping read at start: it may have changed since.
                display.refresh_keyboard_mapping(xevent.MappingNotify(
                    display=display.display, sequence_number=0, request=X.MappingKeyboard,
                    first_keycode=keycode, count=1))
                key = super()._event_to_key(display, event)
            if event.type == X.KeyPress:
                self._down[keycode] = key
            return key

    return KeymapTrackingListener


def _record_range(**fields: Any) -> dict[str, Any]:
    record_range: dict[str, Any] = {
        "core_requests": (0, 0), "core_replies": (0, 0), "ext_requests": (0, 0, 0, 0),
        "ext_replies": (0, 0, 0, 0), "delivered_events": (0, 0), "device_events": (0, 0),
        "errors": (0, 0), "client_started": False, "client_died": False,
    }
    record_range.update(fields)
    return record_range
