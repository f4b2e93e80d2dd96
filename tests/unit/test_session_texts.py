"""Titles and notes: the rules, the locked meta update, `sessionrec rename`, and the
ASCII-safe object metadata they travel in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cli import main
from app.recorder.session_lock import SessionLock
from app.session_texts import (
    KEEP,
    MAX_TITLE_CHARS,
    SessionBusy,
    TextProblem,
    clean_note,
    clean_title,
    set_session_texts,
)
from app.sessions import list_sessions, load_meta, session_paths
from app.upload.session.object_meta import MAX_METADATA_BYTES, decode_text, encode_text, object_metadata
from tests.factories import make_session


def test_title_rules() -> None:
    assert clean_title("  Checkout   bug\n#42 ") == "Checkout bug #42"
    assert clean_title("   ") is None
    assert clean_title("x" * MAX_TITLE_CHARS) == "x" * MAX_TITLE_CHARS
    with pytest.raises(TextProblem, match="at most 200 characters"):
        clean_title("x" * (MAX_TITLE_CHARS + 1))
    with pytest.raises(TextProblem, match="control characters"):
        clean_title("evil\x07bell")
    with pytest.raises(TextProblem, match="control characters"):
        clean_title("abc\u202edcba")  # a bidi override would reorder the card's text
    assert clean_title("family 👨\u200d👩\u200d👧") == "family 👨\u200d👩\u200d👧"


def test_note_keeps_lines_and_refuses_controls() -> None:
    assert clean_note("first line  \r\nsecond\tline\n\n") == "first line\nsecond\tline"
    assert clean_note("\n \n") is None
    with pytest.raises(TextProblem):
        clean_note("a\x00b")


def test_set_texts_changes_only_title_and_note(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    paths = session_paths(data_dir, sid)
    before = json.loads(paths.meta.read_text())
    meta = set_session_texts(data_dir, sid, title="Login fails", note="User: ana\nSteps: 3")
    after = json.loads(paths.meta.read_text())
    assert after.pop("title") == "Login fails" and after.pop("note") == "User: ana\nSteps: 3"
    assert after == before
    assert meta == load_meta(paths).value
    # KEEP leaves a field alone; None removes it.
    set_session_texts(data_dir, sid, title=KEEP, note=None)
    final = load_meta(paths).value
    assert final is not None and final.title == "Login fails" and final.note is None
    item = next(i for i in list_sessions(data_dir) if i.session_id == sid)
    assert item.title == "Login fails"


def test_set_texts_refuses_while_the_recorder_holds_the_session(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    paths = session_paths(data_dir, sid)
    before = paths.meta.read_bytes()
    recorder_lock = SessionLock(paths.root)
    assert recorder_lock.try_acquire()
    try:
        with pytest.raises(SessionBusy, match="being recorded or exported"):
            set_session_texts(data_dir, sid, title="too early")
    finally:
        recorder_lock.release()
    assert paths.meta.read_bytes() == before
    set_session_texts(data_dir, sid, title="now")
    assert load_meta(paths).value.title == "now"  # type: ignore[union-attr]


def test_rename_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    assert main(["--data-dir", str(data_dir), "rename", sid, "Crash on save",
                 "--note", "seen twice"]) == 0
    assert "Crash on save" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["title"] == "Crash on save" and listed[0]["note"] == "seen twice"

    assert main(["--data-dir", str(data_dir), "rename", sid, "x" * 201]) == 2
    assert "at most 200" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "rename", "../etc", "t"]) == 2
    assert "is not a session id" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "rename", "20200101-000000-000-abcdef", "t"]) == 2
    assert "no session" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "rename", sid]) == 2
    assert main(["--data-dir", str(data_dir), "rename", sid, ""]) == 0  # removes the title
    meta = load_meta(session_paths(data_dir, sid)).value
    assert meta is not None and meta.title is None and meta.note == "seen twice"


def test_rename_an_unreadable_session_says_so(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    session_paths(data_dir, sid).meta.write_text("{not json")
    assert main(["--data-dir", str(data_dir), "rename", sid, "t"]) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "Traceback" not in err


@given(st.text(min_size=1, max_size=MAX_TITLE_CHARS))
def test_any_title_survives_the_metadata_encoding(title: str) -> None:
    encoded = encode_text(title)
    assert encoded.isascii() and all(ch.isprintable() for ch in encoded)
    assert all(len(word) <= 75 for word in encoded.split(" ")) or encoded == title
    assert decode_text(encoded) == title


def test_plain_titles_go_as_they_are_and_lookalikes_are_encoded() -> None:
    assert encode_text("Checkout bug #42") == "Checkout bug #42"
    assert encode_text("=?UTF-8?B?eA==?=").startswith("=?UTF-8?B?")
    assert decode_text(encode_text("=?UTF-8?B?eA==?=")) == "=?UTF-8?B?eA==?="
    assert encode_text("Straße") == "=?UTF-8?B?U3RyYcOfZQ==?="


def test_object_metadata_carries_the_session_and_fits_in_2_kb(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    meta = set_session_texts(data_dir, sid, title="😀" * MAX_TITLE_CHARS)
    metadata = object_metadata(sid, "ab" * 32, meta)
    assert metadata["session-id"] == sid and metadata["created-at"] == "1700000000000"
    assert metadata["duration-ms"] == "60000" and metadata["action-count"] == "20"
    assert decode_text(metadata["title"]) == "😀" * MAX_TITLE_CHARS
    assert sum(len(k) + len(v) for k, v in metadata.items()) <= MAX_METADATA_BYTES
    assert all(v.isascii() for v in metadata.values())
