"""Reading a fragmented MP4 back: trim an interrupted file to its last complete fragment, and
count its frames without decoding.

Our MP4 is `ftyp`, `moov` (empty index), then `moof`+`mdat` pairs of ~1 s each. The muxer writes a
fragment in one go when it is complete, so after a kill the file ends in a complete fragment or in
a partly written one. The box walk below reads only the 8-16 byte box headers (cheap on a big
file) and finds where the last complete `moof`+`mdat` pair ends; bytes after it cannot be decoded
(an `mdat` is useless without its whole `moof`) and are cut off.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

# The functions take an open file (opened through app.session_files by their callers), so the
# video is never reached through a link and never blocks as a FIFO.

# Two boxes per ~1 s fragment: a million is days of video. A file with more boxes than that was
# not written by us; walking it would take minutes, so it is left as it is instead.
MAX_BOXES = 1_000_000


def complete_length(handle: BinaryIO) -> int:
    """Length of the longest prefix made of complete boxes, with every moof followed by its mdat."""
    size = os.fstat(handle.fileno()).st_size
    good_end = 0
    pos = 0
    open_moof = False
    boxes = 0
    while pos + 8 <= size:
        boxes += 1
        if boxes > MAX_BOXES:
            return size
        handle.seek(pos)
        header = handle.read(16)
        if len(header) < 8:
            break  # the file shrank under us
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            if len(header) < 16:
                break
            box_size = struct.unpack(">Q", header[8:16])[0]
        if box_size < 8 or pos + box_size > size:
            break  # size 0 ("to end of file") or a box cut short: incomplete
        pos += box_size
        if box_type == b"moof":
            open_moof = True
            continue
        if box_type == b"mdat":
            open_moof = False
        if not open_moof:
            good_end = pos
    return good_end


def trim_to_complete(handle: BinaryIO) -> int:
    """Cut an interrupted file (open for writing) after its last complete fragment; returns the
    bytes removed."""
    size = os.fstat(handle.fileno()).st_size
    keep = complete_length(handle)
    if keep < size:
        handle.flush()
        os.ftruncate(handle.fileno(), keep)
    return size - keep


@dataclass(frozen=True)
class VideoInfo:
    frames: int
    first_pts_ms: int | None
    last_pts_ms: int | None

    def duration_ms(self, fps: float) -> int:
        if self.first_pts_ms is None or self.last_pts_ms is None:
            return 0
        frame_ms = round(1000 / fps) if fps > 0 else 0
        return self.last_pts_ms - self.first_pts_ms + frame_ms


def probe(handle: BinaryIO) -> VideoInfo:
    """Frame count and first/last pts (ms) by demuxing packets only, no decoding."""
    import av

    frames = 0
    first: int | None = None
    last: int | None = None
    handle.seek(0)
    with av.open(handle, "r", format="mp4") as container:
        if not container.streams.video:
            return VideoInfo(0, None, None)
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 1000)
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            pts_ms = round(float(packet.pts * time_base) * 1000)
            frames += 1
            first = pts_ms if first is None else min(first, pts_ms)
            last = pts_ms if last is None else max(last, pts_ms)
    return VideoInfo(frames, first, last)
