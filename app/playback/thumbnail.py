"""Card thumbnails: a small JPEG of the session, made once and cached in the session folder.

The picture is the first periodic screenshot, else the first video frame (a click screenshot
as the last resort). It is made off the GUI thread, written atomically as `.thumbnail.jpg`
(a hidden file: the zip export never takes it), and read from there afterwards. Screenshots
are decoded with PyAV's PNG decoder and the thumbnail encoded with its MJPEG encoder, so this
needs no image library beyond what the recorder already uses.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from app import session_files
from app.playback.decoder import VideoDecoder, VideoUnreadable, fit_size
from app.playback.session_data import list_screenshots, video_rel_of
from app.sessions import META_FILE

log = logging.getLogger(__name__)

THUMBNAIL_FILE = ".thumbnail.jpg"
THUMBNAIL_BOX = (192, 108)
MAX_THUMBNAIL_BYTES = 1024 * 1024
MAX_SCREENSHOT_BYTES = 64 * 1024 * 1024


def decode_png(data: bytes) -> Any:
    """An av.VideoFrame from PNG bytes."""
    import av

    context = av.CodecContext.create("png", "r")
    frames = []
    for packet in context.parse(data) or [av.Packet(data)]:
        frames += context.decode(packet)
    frames += context.decode(None)
    if not frames:
        raise ValueError("the PNG holds no picture")
    return frames[0]


def png_to_rgb(data: bytes, box: tuple[int, int]) -> np.ndarray:
    """A screenshot scaled to fit `box`, as RGB."""
    frame = decode_png(data)
    width, height = fit_size((frame.width, frame.height), box)
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24", width=width, height=height,
                                                 interpolation="AREA"))


def encode_jpeg(frame: Any, box: tuple[int, int] = THUMBNAIL_BOX) -> bytes:
    import av

    width, height = fit_size((frame.width, frame.height), box)
    small = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
    context = av.CodecContext.create("mjpeg", "w")
    context.width, context.height = width, height
    context.pix_fmt = "yuvj420p"
    context.time_base = Fraction(1, 1)
    context.options = {"qmin": "2", "qmax": "5"}
    small.pts = 0
    packets = context.encode(small) + context.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def _source_frame(root: Path) -> Any:
    shots = list_screenshots(root)
    ordered = [s for s in shots if s.kind == "periodic"]
    for shot in ordered[:3]:
        if (frame := _screenshot(root, shot.rel)) is not None:
            return frame
    meta_video = _video_rel(root)
    if meta_video is not None:
        try:
            decoder = VideoDecoder.open(root, meta_video)
        except VideoUnreadable as exc:
            log.info("thumbnail: video unusable: %s", exc)
        else:
            try:
                frame = decoder.next_frame()
                if frame is not None:
                    return frame
            except VideoUnreadable as exc:
                log.info("thumbnail: video unusable: %s", exc)
            finally:
                decoder.close()
    for shot in [s for s in shots if s.kind == "click"][:3]:
        if (frame := _screenshot(root, shot.rel)) is not None:
            return frame
    return None


def _screenshot(root: Path, rel: str) -> Any:
    try:
        return decode_png(session_files.read_bytes(root, rel, MAX_SCREENSHOT_BYTES))
    except Exception as exc:  # unsafe, unreadable or not a PNG (PyAV raises its own errors)
        log.info("thumbnail: screenshot %s unusable: %s", rel, exc)
        return None


def _video_rel(root: Path) -> str | None:
    import json

    from app.models import SessionMeta

    try:
        meta = SessionMeta.from_json(json.loads(session_files.read_bytes(root, META_FILE, 4 << 20)))
        return video_rel_of(meta)
    except Exception:
        try:
            return video_rel_of(None)
        except OSError:
            return None


def cached_thumbnail(root: Path) -> bytes | None:
    try:
        return session_files.read_bytes(root, THUMBNAIL_FILE, MAX_THUMBNAIL_BYTES)
    except FileNotFoundError:
        return None


def thumbnail_for(root: Path, make: bool = True) -> bytes | None:
    """The session's thumbnail JPEG: from the cache, else made now (and cached) when `make`.
    None when there is no picture to make it from. Slow (decodes): never on the GUI thread."""
    try:
        cached = cached_thumbnail(root)
    except OSError as exc:  # a symlink or FIFO planted as the cache: not ours, left alone
        log.info("thumbnail cache of %s unusable: %s", root.name, exc)
        return None
    if cached is not None or not make:
        return cached
    frame = _source_frame(root)
    if frame is None:
        return None
    data = encode_jpeg(frame)
    try:
        session_files.write_atomic(root, THUMBNAIL_FILE, data)
    except OSError as exc:  # a read-only folder: the card still gets its picture this time
        log.info("thumbnail of %s not cached: %s", root.name, exc)
    return data
