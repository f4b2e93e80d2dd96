from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from app.jsonfile import MAX_JSON_DEPTH, SchemaError, loads, read_json, write_json_atomic


def _dict(data: object) -> dict[str, object]:
    if not isinstance(data, dict):
        raise SchemaError("not an object")
    return data


def test_round_trip_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_json_atomic(target, {"a": 1, "b": "ü"}, mode=0o600)
    assert read_json(target, _dict).value == {"a": 1, "b": "ü"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_json_atomic(target, {"a": 2}, mode=0o600)
    assert read_json(target, _dict).value == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"], "temp files left behind"


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    loaded = read_json(tmp_path / "nope.json", _dict)
    assert loaded.missing and loaded.value is None and loaded.problem is None


def test_garbage_truncation_and_wrong_types(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    cases = {
        b"": "empty",
        b"\xff\xfe\x00garbage": "not UTF-8",
        json.dumps({"a": 1, "b": [1, 2, 3]}).encode()[:-3]: "not valid JSON",
        b"[1, 2]": "unexpected content",
        b"NaN": "not valid JSON",
        b'{"a": Infinity}': "not valid JSON",
        b"[" * 100_000 + b"]" * 100_000: "nested more than",
        b"[" * 40 + b"]" * 40: "nested more than",
        b'{"a": ' * 33 + b"1" + b"}" * 33: "nested more than",
    }
    for raw, expected in cases.items():
        target.write_bytes(raw)
        loaded = read_json(target, _dict)
        assert loaded.value is None
        assert loaded.problem is not None and expected in loaded.problem, (raw, loaded.problem)


def test_symlink_is_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text('{"secret": true}')
    link = tmp_path / "link.json"
    os.symlink(real, link)
    loaded = read_json(link, _dict)
    assert loaded.value is None and loaded.problem and "symbolic link" in loaded.problem


def test_failed_write_leaves_old_content_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_json_atomic(target, {"v": 1})
    try:
        write_json_atomic(target, {"v": float("nan")})
    except ValueError:
        pass
    else:
        raise AssertionError("NaN must be refused")
    assert read_json(target, _dict).value == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_loads_depth_limit_is_exact_and_never_recursion_error() -> None:
    assert loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    assert loads(b'{"t": 1, "x": [1, {"y": 2}]}') == {"t": 1, "x": [1, {"y": 2}]}
    for raw in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "[" * 100_000,
                "[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        with pytest.raises(ValueError, match=r"nested more than|Expecting"):
            loads(raw)


def test_default_mode_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_json_atomic(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["fifo", "dir", "socket"])
def test_only_regular_files_are_read_and_nothing_blocks(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "credentials.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dir":
        target.mkdir()
    else:
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(read_json(target, _dict)), daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "reading a FIFO blocked"
    loaded = result[0]
    assert loaded.value is None and loaded.problem  # type: ignore[attr-defined]
    assert "regular" in loaded.problem or "cannot be opened" in loaded.problem  # type: ignore[attr-defined]
