"""Several monitors on one Xvfb screen: RandR 1.5 monitors defined by a client, as
`xrandr --setmonitor` does (mss lists RandR monitors). python-xlib's own SetMonitor request
cannot pack its monitor-info argument, so the request is declared flat here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from Xlib import display  # type: ignore[import-untyped]
from Xlib.protocol import rq  # type: ignore[import-untyped]


class _SetMonitor(rq.Request):
    _request = rq.Struct(
        rq.Card8("opcode"), rq.Opcode(43), rq.RequestLength(), rq.Window("window"),
        rq.Card32("name"), rq.Bool("primary"), rq.Bool("automatic"), rq.LengthOf("crtcs", 2),
        rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"),
        rq.Card32("mm_width"), rq.Card32("mm_height"), rq.List("crtcs", rq.Card32Obj))


@contextlib.contextmanager
def monitors(display_name: str, layout: list[tuple[str, int, int, int, int]]) -> Iterator[None]:
    """The screen has the monitors `layout` = [(name, x, y, width, height), ...] inside this
    block. The X server drops a client's monitors when that client disconnects, so the
    connection stays open until the block ends. The first monitor takes Xvfb's one output,
    which retires the automatic monitor of that output."""
    disp = display.Display(display_name)
    try:
        root = disp.screen().root
        opcode = disp.display.get_extension_major("RANDR")
        outputs = list(root.xrandr_get_screen_resources().outputs)
        for number, (name, x, y, width, height) in enumerate(layout):
            _SetMonitor(display=disp.display, opcode=opcode, window=root,
                        name=disp.intern_atom(name), primary=number == 0, automatic=False,
                        crtcs=outputs[:1] if number == 0 else [], x=x, y=y, width=width,
                        height=height, mm_width=width // 4, mm_height=height // 4)
        disp.sync()
        yield
    finally:
        disp.close()
