"""SliceReader and digest_slice return exactly the bytes of their slice, for any read sizes."""

from __future__ import annotations

import hashlib
import os
import threading
import zlib
from collections.abc import Iterator

import pytest

from app.upload.session.part_reader import ReaderStopped, SliceReader, digest_slice

SIZE = 3_000_001
# (offset, length): whole file, unaligned middle, a tail shorter than any block, empty.
SLICES = [(0, SIZE), (7, 1_000_000), (SIZE - 1001, 1001), (5, 0)]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, bytes]]:
    path = tmp_path_factory.mktemp("slices") / "zip"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    yield fd, data
    os.close(fd)


@pytest.mark.parametrize(("offset", "length"), SLICES)
def test_digest_slice_matches_the_slice(data_file: tuple[int, bytes], offset: int, length: int) -> None:
    path, data = data_file
    piece = data[offset:offset + length]
    digest = digest_slice(path, offset, length, "CRC32", threading.Event(), with_md5=True)
    assert digest.raw == zlib.crc32(piece).to_bytes(4, "big")
    assert digest.md5_hex == hashlib.md5(piece).hexdigest()
    whole = hashlib.sha256()
    sha = digest_slice(path, offset, length, "SHA256", threading.Event(), also=[whole])
    assert sha.raw == hashlib.sha256(piece).digest() and sha.md5_hex is None
    assert whole.digest() == sha.raw  # a hash riding along sees exactly the slice's bytes


@pytest.mark.parametrize(("offset", "length"), SLICES)
def test_slice_reader_returns_the_slice_for_mixed_read_sizes(
        data_file: tuple[int, bytes], offset: int, length: int) -> None:
    path, data = data_file
    piece = data[offset:offset + length]
    events = threading.Event(), threading.Event()
    with SliceReader(path, offset, length, *events) as reader:
        sizes = [8192, 131072, 1, 70_000, 1 << 20, 5000]
        chunks, turn = [], 0
        while chunk := reader.read(sizes[turn % len(sizes)]):
            assert isinstance(chunk, bytes)
            chunks.append(chunk)
            turn += 1
        assert b"".join(chunks) == piece
        reader.seek(0)
        assert reader.read() == piece
        reader.seek(3 if length > 3 else 0)
        buffer = bytearray(100_000)
        got = reader.readinto(buffer)
        start = 3 if length > 3 else 0
        assert bytes(buffer[:got]) == piece[start:start + got] and got == min(100_000, length - start)


def test_slice_reader_stops_when_cancelled(data_file: tuple[int, bytes]) -> None:
    path, _ = data_file
    cancel, stop = threading.Event(), threading.Event()
    with SliceReader(path, 0, SIZE, cancel, stop) as reader:
        assert reader.read(131072)
        cancel.set()
        with pytest.raises(ReaderStopped):
            reader.read(131072)
        with pytest.raises(ReaderStopped):
            reader.readinto(bytearray(10))


def test_a_file_shorter_than_the_slice_is_a_read_error(data_file: tuple[int, bytes]) -> None:
    path, _ = data_file
    with pytest.raises(OSError):
        digest_slice(path, SIZE - 10, 20, "CRC32", threading.Event())
    with SliceReader(path, SIZE - 10, 200_000, threading.Event(), threading.Event()) as reader, \
            pytest.raises(OSError):
        reader.read(131072)


def test_closing_a_reader_leaves_the_shared_descriptor_open(data_file: tuple[int, bytes]) -> None:
    fd, data = data_file
    with SliceReader(fd, 0, 10, threading.Event(), threading.Event()) as reader:
        assert reader.read(10) == data[:10]
    assert os.pread(fd, 4, 0) == data[:4]
