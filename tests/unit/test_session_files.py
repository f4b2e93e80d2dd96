"""The trust rule: nothing outside a session folder is reached through what is inside it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from app import session_files as sf


@pytest.fixture()
def layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "sessions" / "s1"
    (root / "video").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious bytes\n")
    return root, victim


def _unchanged(victim: Path, before: os.stat_result) -> bool:
    after = victim.stat()
    return victim.read_bytes() == b"precious bytes\n" and after.st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize("rel", ["", "/etc/passwd", "../victim.txt", "a/../../x", "video//x",
                                 "./x", "a\\b", "x\0y", "x\ny", "a/b/c/d/e", "x" * 300])
def test_check_rel_refuses_paths_that_leave_or_hide(rel: str) -> None:
    with pytest.raises(sf.UnsafeFile) as info:
        sf.check_rel(rel)
    assert "\n" not in str(info.value)
    assert "\0" not in str(info.value)


def test_check_rel_keeps_plain_paths() -> None:
    assert sf.check_rel("video/screen.mp4") == "video/screen.mp4"
    assert sf.check_rel("actions.jsonl") == "actions.jsonl"


def test_symlinked_file_is_never_read_written_or_truncated(layout: tuple[Path, Path]) -> None:
    root, victim = layout
    before = victim.stat()
    (root / "frames.jsonl").symlink_to(victim)
    with pytest.raises(sf.UnsafeFile):
        sf.read_bytes(root, "frames.jsonl", 1000)
    with pytest.raises(sf.UnsafeFile):
        sf.truncate(root, "frames.jsonl", 0)
    with pytest.raises(sf.UnsafeFile):
        sf.open_binary(root, "frames.jsonl", "ab").close()
    with pytest.raises(sf.UnsafeFile):
        sf.open_binary(root, "frames.jsonl", "wb").close()
    with pytest.raises(sf.UnsafeFile):
        sf.stat_regular(root, "frames.jsonl")
    assert not sf.is_regular(root, "frames.jsonl")
    assert _unchanged(victim, before)


def test_symlinked_folder_on_the_way_is_refused(layout: tuple[Path, Path], tmp_path: Path) -> None:
    root, victim = layout
    before = victim.stat()
    (root / "video").rmdir()
    (root / "video").symlink_to(tmp_path)
    with pytest.raises(sf.UnsafeFile, match="symbolic link or not a folder"):
        sf.truncate(root, "video/victim.txt", 0)
    assert _unchanged(victim, before)


def test_list_files_through_link_raises_not_lists(layout: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = layout
    (root / "video").rmdir()
    (root / "video").symlink_to(tmp_path)
    with pytest.raises(sf.UnsafeFile):
        sf.list_files(root, "video")


def test_symlinked_session_root_is_refused(layout: tuple[Path, Path], tmp_path: Path) -> None:
    _root, victim = layout
    link = tmp_path / "sessions" / "s2"
    link.symlink_to(tmp_path)
    with pytest.raises(sf.UnsafeFile, match="symbolic link"):
        sf.read_bytes(link, "victim.txt", 100)
    with pytest.raises(sf.UnsafeFile):
        sf.check_session_root(link)
    assert victim.read_bytes() == b"precious bytes\n"


def test_fifo_never_blocks(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    os.mkfifo(root / "session-meta.json")
    result: list[BaseException] = []

    def attempt() -> None:
        try:
            sf.read_bytes(root, "session-meta.json", 100)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert isinstance(result[0], sf.UnsafeFile)
    assert "FIFO" in str(result[0])
    with pytest.raises(sf.UnsafeFile):
        sf.open_binary(root, "session-meta.json", "ab")


def test_directory_in_place_of_file(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "actions.jsonl").mkdir()
    with pytest.raises(sf.UnsafeFile, match="folder"):
        sf.read_bytes(root, "actions.jsonl", 100)
    with pytest.raises(sf.UnsafeFile):
        sf.unlink(root, "actions.jsonl")


def test_size_bound(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "big.json").write_bytes(b"x" * 101)
    with pytest.raises(sf.UnsafeFile, match="larger"):
        sf.read_bytes(root, "big.json", 100)
    assert sf.read_bytes(root, "big.json", 101) == b"x" * 101


def test_unlink_removes_the_link_not_its_target(layout: tuple[Path, Path]) -> None:
    root, victim = layout
    (root / "session.zip").symlink_to(victim)
    sf.unlink(root, "session.zip")
    assert not os.path.lexists(root / "session.zip")
    assert victim.read_bytes() == b"precious bytes\n"


def test_write_atomic_replaces_a_link_never_its_target(layout: tuple[Path, Path]) -> None:
    root, victim = layout
    before = victim.stat()
    (root / "upload-state.json").symlink_to(victim)
    sf.write_atomic(root, "upload-state.json", b"{}\n")
    assert not (root / "upload-state.json").is_symlink()
    assert (root / "upload-state.json").read_bytes() == b"{}\n"
    assert (root / "upload-state.json").stat().st_mode & 0o777 == 0o600
    assert _unchanged(victim, before)


def test_regular_files_work_in_every_mode(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    with sf.open_binary(root, "video/screen.mp4", "wb") as handle:
        handle.write(b"abc")
    with sf.open_binary(root, "video/screen.mp4", "ab") as handle:
        handle.write(b"def")
    assert sf.read_bytes(root, "video/screen.mp4", 10) == b"abcdef"
    sf.truncate(root, "video/screen.mp4", 2)
    info = sf.stat_regular(root, "video/screen.mp4")
    assert info is not None and info.st_size == 2
    assert (root / "video/screen.mp4").stat().st_mode & 0o777 == 0o600
    with sf.open_text(root, "notes/a.txt", "a", create_dirs=True) as text:
        text.write("é\n")
    assert sf.list_files(root, "notes") == ["a.txt"]
    assert sf.stat_regular(root, "missing.json") is None
    assert sf.list_files(root, "nowhere") == []
    assert sf.exists_any(root, "notes") and not sf.exists_any(root, "nowhere")


def test_strict_listing_refuses_what_plain_listing_skips(layout: tuple[Path, Path]) -> None:
    root, victim = layout
    (root / "video" / "a.mp4").write_bytes(b"x")
    (root / "video" / ".tmp").symlink_to(victim)  # hidden: skipped either way
    assert sf.list_files(root, "video", strict=True) == ["a.mp4"]
    (root / "video" / "b.mp4").symlink_to(victim)
    assert sf.list_files(root, "video") == ["a.mp4"]
    with pytest.raises(sf.UnsafeFile, match="symbolic link"):
        sf.list_files(root, "video", strict=True)


def test_remove_takes_links_never_their_targets(layout: tuple[Path, Path], tmp_path: Path) -> None:
    root, victim = layout
    outside = tmp_path / "outside-dir"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (root / "video" / "screen.mp4").symlink_to(victim)
    (root / "video" / "dir-link").symlink_to(outside, target_is_directory=True)
    (root / "screenshots").symlink_to(outside, target_is_directory=True)
    sf.remove(root, "video")
    sf.remove(root, "screenshots")
    sf.remove(root, "missing")
    assert sf.list_names(root) == []
    assert victim.read_bytes() == b"precious bytes\n"
    assert (outside / "keep.txt").read_text() == "keep"


def test_rename_replaces_a_link_at_the_target(layout: tuple[Path, Path]) -> None:
    root, victim = layout
    (root / "session.zip.partial").write_bytes(b"zip")
    (root / "session.zip").symlink_to(victim)
    sf.rename(root, "session.zip.partial", "session.zip")
    assert not (root / "session.zip").is_symlink()
    assert (root / "session.zip").read_bytes() == b"zip"
    assert victim.read_bytes() == b"precious bytes\n"


def test_folders_are_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        root = tmp_path / "s"
        sf.create_session_folder(root)
        sf.make_dir(root, "video")
        sf.open_binary(root, "video/screen.mp4", "ab").close()
    finally:
        os.umask(old)
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert os.stat(root / "video").st_mode & 0o777 == 0o700
    assert os.stat(root / "video" / "screen.mp4").st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        sf.create_session_folder(root)


def test_open_regular_refuses_links_and_fifos_outside_sessions(tmp_path: Path) -> None:
    target = tmp_path / "upload-config.json"
    target.symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text("{}")
    with pytest.raises(sf.UnsafeFile, match=r"upload-config\.json is a symbolic link"):
        sf.open_regular(target)
    target.unlink()
    os.mkfifo(target)
    with pytest.raises(sf.UnsafeFile, match="FIFO"):
        sf.open_regular(target)


def test_permission_problem_names_the_file(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "actions.jsonl").write_text("{}\n")
    assert sf.permission_problem(root, "actions.jsonl", write=True) is None
    assert sf.permission_problem(root, "missing.jsonl") is None
    if os.geteuid() != 0:  # root may read anything; the CLI tests check this case as nobody
        (root / "actions.jsonl").chmod(0)
        assert "actions.jsonl cannot be read" in (sf.permission_problem(root, "actions.jsonl") or "")
