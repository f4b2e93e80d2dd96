"""PNG from a BGRA screen frame, written in strips so memory stays small.

A 1080p frame is 8 MB; FFmpeg's PNG encoder (through PyAV) needed a full copy of it, a full RGB
conversion and a whole-image output buffer, about 30 MB more RSS for each screenshot, in ~40 ms.
Here 32 rows at a time are turned into RGB with the PNG "Up" filter (each byte minus the one
above it: screens are mostly flat colour, so this compresses better than no filter), compressed
with zlib level 6 and written as their own IDAT chunk (a PNG may have any number of them): a few
hundred KB of memory and ~30 ms at 1080p, and the files came out smaller than FFmpeg's
(56 against 64 KB on the same busy screen). Lossless: decoding gives back the frame's RGB exactly.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_ROWS = 32
ZLIB_LEVEL = 6
FILTER_UP = 2


def _chunk(handle: BinaryIO, kind: bytes, data: bytes) -> None:
    handle.write(struct.pack(">I", len(data)) + kind + data
                 + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_png(handle: BinaryIO, pixels: Any) -> None:
    """Write `pixels` (height x width x 4, BGRA, uint8) as an 8-bit RGB PNG."""
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    handle.write(SIGNATURE)
    _chunk(handle, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    compressor = zlib.compressobj(ZLIB_LEVEL)
    above = np.zeros((1, width, 3), np.uint8)
    for top in range(0, height, STRIP_ROWS):
        rgb = np.ascontiguousarray(pixels[top:top + STRIP_ROWS, :, 2::-1])
        rows = rgb.shape[0]
        previous = np.concatenate((above, rgb[:-1]), axis=0)
        strip = np.empty((rows, 1 + width * 3), np.uint8)
        strip[:, 0] = FILTER_UP
        # uint8 arithmetic wraps around, which is exactly PNG's "modulo 256".
        strip[:, 1:] = (rgb - previous).reshape(rows, width * 3)
        above = rgb[-1:]
        data = compressor.compress(strip.tobytes())
        if data:
            _chunk(handle, b"IDAT", data)
    _chunk(handle, b"IDAT", compressor.flush())
    _chunk(handle, b"IEND", b"")


def encode_png(pixels: Any) -> bytes:
    """`write_png` into memory (thumbnails and test pictures; screenshots stream to disk)."""
    buffer = io.BytesIO()
    write_png(buffer, pixels)
    return buffer.getvalue()
