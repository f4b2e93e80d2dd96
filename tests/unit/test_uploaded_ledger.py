"""uploaded.jsonl: appended per verified upload, read back tolerantly, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

from app.upload.session.uploaded_ledger import LEDGER_FILE, Uploaded, find, record


def test_the_newest_entry_of_a_session_is_found_and_bad_lines_are_skipped(data_dir: Path) -> None:
    first = Uploaded("s-1", "a/s-1.zip", 100, "ab" * 32)
    record(data_dir, first)
    record(data_dir, Uploaded("s-2", "a/s-2.zip", 5, "cd" * 32))
    with open(data_dir / LEDGER_FILE, "a") as handle:
        handle.write('{"sessionId": "s-1", "s3Key": 7}\n{"sessionId": "s-1", "s3K')  # torn by a crash
    assert find(data_dir, "s-1") == first
    again = Uploaded("s-1", "b/s-1.zip", 120, "ef" * 32)
    with open(data_dir / LEDGER_FILE, "a") as handle:
        handle.write("\n")
    record(data_dir, again)
    assert find(data_dir, "s-1") == again and find(data_dir, "s-3") is None
    assert (os.stat(data_dir / LEDGER_FILE).st_mode & 0o777) == 0o600


def test_a_link_in_place_of_the_ledger_is_never_followed(data_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_text('{"sessionId": "s-1", "s3Key": "k", "size": 1, "zipSha256": "x"}\n')
    (data_dir / LEDGER_FILE).symlink_to(outside)
    assert find(data_dir, "s-1") is None
    record(data_dir, Uploaded("s-2", "k2", 2, "y"))
    assert "s-2" not in outside.read_text()
