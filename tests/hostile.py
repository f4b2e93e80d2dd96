"""Hostile session folders: a valid session of each kind, then one mutation at a time.

A data folder is untrusted input (synced, restored, hand-edited, written by another program), so
the tests build what such a folder can hold and check that sessionrec reads nothing outside it,
writes and truncates nothing outside it, never hangs and never prints a traceback.

    victim = Victim.make(tmp_path / "outside")           # bytes + mtime to compare afterwards
    paths = interrupted(data_dir)                        # or exported(...), ended_unexported(...)
    MUTATIONS["symlink:frames.jsonl"](paths, victim)     # or apply(paths, victim, name)
    ... run the CLI ...
    victim.assert_unchanged()

`MUTATIONS` maps a stable name to a function (paths, victim) -> None; `mutation_names(kind)` lists
the ones that fit a session kind, and `random_case(rng, data_dir, victim)` builds one random
session and mutation for a fuzz run (a fixed seed gives the same cases every run).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from app.models import SessionMeta
from app.sessions import SessionPaths, new_session_id, save_meta, session_paths
from tests.factories import make_session

Kind = Literal["exported", "ended_unexported", "interrupted"]
KINDS: tuple[Kind, ...] = ("exported", "ended_unexported", "interrupted")
T0 = 1_700_000_000_000
VICTIM_BYTES = b"precious bytes that live outside the data folder\n"
# Every file a session folder can hold (what a mutation may target).
SESSION_FILES = ("session-meta.json", "upload-state.json", "actions.jsonl", "frames.jsonl",
                 "video/screen.mp4", "session.zip", ".exported", ".recording.lock",
                 "screenshots/click-000000000ms-f000000.png")
JSON_FILES = ("session-meta.json", "upload-state.json")
JSONL_FILES = ("actions.jsonl", "frames.jsonl")
DEEP_LINE = b"[" * 100_000 + b"]" * 100_000 + b"\n"


@dataclass(frozen=True)
class Victim:
    """Files outside the data folder that no hostile session may change: a file and a folder
    holding one (targets for links to a file and to a folder)."""

    file: Path
    folder: Path
    mtime_ns: int

    @classmethod
    def make(cls, where: Path) -> Victim:
        where.mkdir(parents=True, exist_ok=True)
        folder = where / "victim-folder"
        folder.mkdir(exist_ok=True)
        file = where / "victim.txt"
        stamp = 1_600_000_000_000_000_000  # far in the past: any write moves it
        for target in (file, folder / "screen.mp4", folder / "victim.txt"):
            target.write_bytes(VICTIM_BYTES)
            os.utime(target, ns=(stamp, stamp))
        return cls(file, folder, stamp)

    def changes(self) -> list[str]:
        """What differs from how `make` left the victims (empty when untouched)."""
        found = []
        for target in (self.file, self.folder / "screen.mp4", self.folder / "victim.txt"):
            try:
                info = os.stat(target)
                data = target.read_bytes()
            except OSError as exc:
                found.append(f"{target}: {exc}")
                continue
            if data != VICTIM_BYTES:
                found.append(f"{target}: bytes changed ({len(data)} bytes now)")
            if info.st_mtime_ns != self.mtime_ns:
                found.append(f"{target}: mtime changed")
        if sorted(p.name for p in self.folder.iterdir()) != ["screen.mp4", "victim.txt"]:
            found.append(f"{self.folder}: files added or removed")
        return found

    def assert_unchanged(self) -> None:
        changes = self.changes()
        assert not changes, changes

    def chown(self, uid: int, gid: int) -> None:
        """Give the victims to the user the CLI runs as, so a bug could really damage them."""
        for target in (self.file.parent, self.file, self.folder, *self.folder.iterdir()):
            os.chown(target, uid, gid)
        for target in (self.file, *self.folder.iterdir()):
            os.utime(target, ns=(self.mtime_ns, self.mtime_ns))


@cache
def small_video() -> bytes:
    """A real fragmented MP4 of 2 s at 10 fps (made once per process): recovery can trim and
    probe it like a recording."""
    from tests.recorder.synthetic import write_video

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "v.mp4"
        write_video(target, 10, 2.0, (64, 48))
        return target.read_bytes()


def _lines(count: int, make: Callable[[int], dict[str, Any]]) -> str:
    return "".join(json.dumps(make(i)) + "\n" for i in range(count))


def exported(data_dir: Path, created_at: int = T0, **kwargs: Any) -> SessionPaths:
    """An ended session with its zip and `.exported` (tests/factories.make_session)."""
    return session_paths(data_dir, make_session(data_dir, created_at, **kwargs))


def ended_unexported(data_dir: Path, created_at: int = T0, **kwargs: Any) -> SessionPaths:
    """An ended session whose export did not happen (recovery exports it)."""
    return session_paths(data_dir, make_session(data_dir, created_at, exported=False, **kwargs))


def interrupted(data_dir: Path, created_at: int = T0, real_video: bool = True) -> SessionPaths:
    """A session as a kill -9 leaves it: meta without endedAt, a video (a real fMP4, or random
    bytes), frames, actions, a screenshot; recovery finalizes and exports it."""
    paths = session_paths(data_dir, new_session_id(created_at))
    (paths.root / "video").mkdir(parents=True)
    (paths.root / "screenshots").mkdir()
    video = small_video() if real_video else os.urandom(512)
    (paths.root / "video" / "screen.mp4").write_bytes(video)
    paths.frames.write_text(_lines(20, lambda i: {"index": i, "t": i * 100}))
    paths.actions.write_text(_lines(5, lambda i: {"t": i * 400, "type": "click", "x": 1, "y": 2,
                                                   "button": "left", "pressed": True,
                                                   "frame": i * 4}))
    (paths.root / "screenshots" / "click-000000000ms-f000000.png").write_bytes(b"\x89PNG fake")
    save_meta(paths, SessionMeta(session_id=paths.session_id, created_at=created_at, fps=10,
                                 video_ref="video/screen.mp4"))
    return paths


BUILDERS: dict[Kind, Callable[..., SessionPaths]] = {
    "exported": exported, "ended_unexported": ended_unexported, "interrupted": interrupted,
}


# --- mutations ---------------------------------------------------------------------------------

def _clear(target: Path) -> None:
    # lstat, never a following check: an earlier mutation may have left a link or a FIFO here.
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif os.path.lexists(target):
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)


def symlink_to_victim(rel: str) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        _clear(target)
        target.symlink_to(victim.file)
    return mutate


def dangling_symlink(rel: str) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        _clear(target)
        target.symlink_to(victim.file.parent / "does-not-exist")
    return mutate


def folder_symlink(rel_dir: str) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel_dir
        _clear(target)
        target.symlink_to(victim.folder, target_is_directory=True)
    return mutate


def fifo(rel: str) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        _clear(target)
        os.mkfifo(target)
    return mutate


def directory(rel: str) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        _clear(target)
        target.mkdir()
        (target / "inside.txt").write_text("a folder where a file belongs")
    return mutate


def mode_000(rel: str) -> Callable[[SessionPaths, Victim], None]:
    """Unreadable for its owner; only meaningful when the CLI does not run as root."""
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"{}")
        target.chmod(0)
    return mutate


def replace_bytes(rel: str, make: Callable[[bytes], bytes]) -> Callable[[SessionPaths, Victim], None]:
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        target = paths.root / rel
        old = target.read_bytes() if target.is_file() and not target.is_symlink() else b""
        _clear(target)
        target.write_bytes(make(old))
    return mutate


def meta_field(key: str, value: Any) -> Callable[[SessionPaths, Victim], None]:
    """Set one field of session-meta.json to `value`; the string "{victim}" stands for the
    victim file's absolute path."""
    def mutate(paths: SessionPaths, victim: Victim) -> None:
        if not stat.S_ISREG(os.lstat(paths.meta).st_mode):
            return  # an earlier mutation put a link, FIFO or folder there: nothing to edit
        try:
            doc = json.loads(paths.meta.read_text())
        except (ValueError, PermissionError):
            return
        if not isinstance(doc, dict):
            return
        doc[key] = value.replace("{victim}", str(victim.file)) if isinstance(value, str) else value
        paths.meta.write_text(json.dumps(doc))
    return mutate


def _flip(data: bytes) -> bytes:
    if not data:
        return b"\xff"
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def _escape_from(depth: int) -> str:
    return "../" * depth + "victim.txt"


MUTATIONS: dict[str, Callable[[SessionPaths, Victim], None]] = {}
for _rel in SESSION_FILES:
    MUTATIONS[f"symlink:{_rel}"] = symlink_to_victim(_rel)
    MUTATIONS[f"dangling-symlink:{_rel}"] = dangling_symlink(_rel)
    MUTATIONS[f"fifo:{_rel}"] = fifo(_rel)
    MUTATIONS[f"directory:{_rel}"] = directory(_rel)
    MUTATIONS[f"mode-000:{_rel}"] = mode_000(_rel)
    MUTATIONS[f"flip-byte:{_rel}"] = replace_bytes(_rel, _flip)
    MUTATIONS[f"truncate-half:{_rel}"] = replace_bytes(_rel, lambda d: d[: len(d) // 2])
    MUTATIONS[f"append-garbage:{_rel}"] = replace_bytes(_rel, lambda d: d + b"\x00garbage\xff")
    MUTATIONS[f"empty:{_rel}"] = replace_bytes(_rel, lambda d: b"")
    MUTATIONS[f"non-utf8:{_rel}"] = replace_bytes(_rel, lambda d: b"\xff\xfe\xc3\x28" + d)
for _folder in ("video", "screenshots"):
    MUTATIONS[f"folder-symlink:{_folder}"] = folder_symlink(_folder)
    MUTATIONS[f"file-for-folder:{_folder}"] = replace_bytes(_folder, lambda d: b"not a folder")
for _rel in JSONL_FILES:
    MUTATIONS[f"deep-line:{_rel}"] = replace_bytes(_rel, lambda d: d + DEEP_LINE)
    MUTATIONS[f"deep-line-first:{_rel}"] = replace_bytes(_rel, lambda d: DEEP_LINE + d)
    MUTATIONS[f"huge-line:{_rel}"] = replace_bytes(_rel, lambda d: d + b'{"t": "' + b"x" * 300_000
                                                   + b'"}\n')
    MUTATIONS[f"huge-t:{_rel}"] = replace_bytes(_rel, lambda d: d + b'{"t": 1' + b"0" * 4000 + b"}\n")
    MUTATIONS[f"float-t:{_rel}"] = replace_bytes(_rel, lambda d: d + b'{"t": 1e308}\n')
    MUTATIONS[f"nan-t:{_rel}"] = replace_bytes(_rel, lambda d: d + b'{"t": NaN}\n')
for _rel in JSON_FILES:
    MUTATIONS[f"deep:{_rel}"] = replace_bytes(_rel, lambda d: DEEP_LINE)
    MUTATIONS[f"wrong-type:{_rel}"] = replace_bytes(_rel, lambda d: b'["not", "an", "object"]')
MUTATIONS.update({
    "videoRef:absolute": meta_field("videoRef", "{victim}"),
    "videoRef:dotdot": meta_field("videoRef", "video/" + _escape_from(4)),
    "videoRef:outside-video": meta_field("videoRef", "actions.jsonl"),
    "videoRef:control-char": meta_field("videoRef", "video/a\nb.mp4"),
    "videoRef:wrong-type": meta_field("videoRef", 12),
    "zipPath:absolute": meta_field("zipPath", "{victim}"),
    "zipPath:dotdot": meta_field("zipPath", _escape_from(3)),
    "meta:huge-number": meta_field("createdAt", 10**300),
    "meta:float-count": meta_field("actionCount", 1e308),
    "meta:negative-count": meta_field("frameCount", -5),
    "meta:other-session": meta_field("sessionId", "someone-else"),
    "meta:newer-schema": meta_field("schemaVersion", 99),
})

# Mutations that make sense only when the session's files can be unreadable to their owner.
NEEDS_NON_ROOT = frozenset(name for name in MUTATIONS if name.startswith("mode-000:"))


def mutation_names(include_mode_000: bool = True) -> list[str]:
    """Every mutation name, sorted (each applies to every kind of session: a mutation of a file
    the session lacks creates it). Mode 000 means nothing to a process running as root."""
    return sorted(n for n in MUTATIONS if include_mode_000 or n not in NEEDS_NON_ROOT)


def apply(paths: SessionPaths, victim: Victim, name: str) -> None:
    MUTATIONS[name](paths, victim)


def symlinked_session_folder(data_dir: Path, victim: Victim, created_at: int = T0) -> str:
    """sessions/<valid id> as a link to a real exported session folder outside the data folder;
    returns the id. Nothing may be read, written or uploaded through it."""
    outside = victim.file.parent / "outside-data"
    session_id = make_session(outside, created_at)
    link = session_paths(data_dir, "placeholder").root.parent / session_id
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / "sessions" / session_id, target_is_directory=True)
    return session_id


@dataclass(frozen=True)
class Case:
    kind: Kind
    mutation: str
    session_id: str


def random_case(rng: random.Random, data_dir: Path, victim: Victim, created_at: int,
                include_mode_000: bool = True, real_video: bool = False) -> Case:
    """One random session kind with one random mutation (two, a quarter of the time)."""
    kind = rng.choice(KINDS)
    builder = BUILDERS[kind]
    paths = (builder(data_dir, created_at, real_video=real_video) if kind == "interrupted"
             else builder(data_dir, created_at))
    chosen = rng.sample(mutation_names(include_mode_000), 2 if rng.random() < 0.25 else 1)
    for name in chosen:
        apply(paths, victim, name)
    return Case(kind, "+".join(chosen), paths.session_id)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- running the CLI as a user would ------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534
# A hang is a failure: no command here takes more than a few seconds.
CLI_TIMEOUT_S = 60.0


def is_root() -> bool:
    return os.geteuid() == 0


def cli_env(home: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("SESSIONREC_DATA_DIR", None)
    if home is not None:
        env["HOME"] = str(home)
    return env


def run_sessionrec(data_dir: Path, *args: str, as_nobody: bool = False, umask: int | None = None,
                   timeout: float = CLI_TIMEOUT_S, stdin: str | None = None
                   ) -> subprocess.CompletedProcess[str]:
    """`python -m app --data-dir DATA ARGS` as a subprocess with a time limit (a hang raises
    subprocess.TimeoutExpired). `as_nobody`: when the tests run as root (CI does), run it as
    the user nobody instead, so permissions apply as they do to a real user; as an ordinary
    user it runs as that user."""
    command = [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args]
    if as_nobody and is_root():
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(command, cwd=REPO, env=cli_env(home=data_dir.parent), text=True,
                          capture_output=True, timeout=timeout, input=stdin,
                          preexec_fn=set_umask if umask is not None else None)


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream[-3000:]


def listed(data_dir: Path, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """`list --json` by session id; asserts it ended cleanly and printed no traceback."""
    result = run_sessionrec(data_dir, "list", "--json", **kwargs)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    return {item["sessionId"]: item for item in json.loads(result.stdout)}


@contextlib.contextmanager
def user_tree(prefix: str = "sr-user-") -> Iterator[Path]:
    """A temp folder the CLI's user owns: when running as root, owned by nobody (and reachable
    by it: pytest's own tmp folders are 0700 root)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        if is_root():
            os.chown(base, NOBODY, NOBODY)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def give_to_cli_user(*paths: Path) -> None:
    """chown -R to nobody when running as root (no-op otherwise); links are not followed."""
    if not is_root():
        return
    for top in paths:
        for folder, dirs, files in os.walk(top):
            os.chown(folder, NOBODY, NOBODY, follow_symlinks=False)
            for name in [*dirs, *files]:
                os.chown(os.path.join(folder, name), NOBODY, NOBODY, follow_symlinks=False)
