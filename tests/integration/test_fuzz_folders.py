"""Fuzz of corrupt session folders through the real command line, with a fixed seed.

1,000 sessions, each a valid session (exported, ended but not exported, or interrupted) with one
or two random mutations from tests/hostile.py (bytes flipped, truncated, wrong types, huge
numbers, deep nesting, non-UTF-8, empty, a folder, FIFO or symlink instead of a file, mode 000),
are listed with `list --json`; a sample is uploaded with `upload ID --wait` and with
`queue --wait` against moto. Every command runs as a process with a time limit (as the user
nobody when the tests run as root, so mode 000 means what it means to a user). Must hold:
0 tracebacks, 0 hangs, every session listed, a victim outside the data folder unchanged, and
no zip ever `done` unless the object in the bucket is byte for byte the zip the recorder wrote.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.paths import ensure_data_dir
from app.sessions import session_paths
from app.upload.config import UploadConfig, object_key, save_config
from app.upload.s3.credentials import save_secrets
from tests import hostile
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server

SEED = 20261201
LIST_CASES = 1000
UPLOAD_CASES = 40
QUEUE_CASES = 24


@dataclass(frozen=True)
class Built:
    case: hostile.Case
    zip_sha256: str | None  # of the zip the recorder wrote, before any mutation


def build(rng: random.Random, data_dir: Path, victim: hostile.Victim, created_at: int,
          include_mode_000: bool) -> Built:
    """hostile.random_case, remembering the hash of the zip the session held before mutation."""
    kind = rng.choice(hostile.KINDS)
    builder = hostile.BUILDERS[kind]
    paths = builder(data_dir, created_at)
    original = hashlib.sha256(paths.zip.read_bytes()).hexdigest() if paths.zip.is_file() else None
    chosen = rng.sample(hostile.mutation_names(include_mode_000), 2 if rng.random() < 0.25 else 1)
    for name in chosen:
        hostile.apply(paths, victim, name)
    return Built(hostile.Case(kind, "+".join(chosen), paths.session_id), original)


def _run(data_dir: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = hostile.run_sessionrec(data_dir, *args, as_nobody=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`sessionrec {' '.join(args)}` hung ({timeout:.0f} s)") from exc
    hostile.assert_no_traceback(result)
    return result


def _configure(data_dir: Path, server: S3Server, bucket: str) -> UploadConfig:
    config = UploadConfig(bucket=bucket, region="us-east-1", endpoint_url=server.endpoint_url,
                          access_key_id=OPEN_ACCESS_KEY, max_retries=2, backoff_base_sec=0.1,
                          backoff_cap_sec=1.0, part_size_bytes=5 * 1024 * 1024,
                          read_timeout_sec=10.0, connect_timeout_sec=5.0)
    ensure_data_dir(data_dir)
    save_config(data_dir, config)
    save_secrets(data_dir, secretAccessKey=OPEN_SECRET_KEY, sessionToken=None)
    return config


def _object(client: Any, bucket: str, key: str) -> tuple[str, dict[str, str]] | None:
    try:
        got = client.get_object(Bucket=bucket, Key=key)
    except client.exceptions.NoSuchKey:
        return None
    return hashlib.sha256(got["Body"].read()).hexdigest(), got.get("Metadata", {})


def _check_done_means_verified(data_dir: Path, built: Built, listed: dict[str, Any],
                               client: Any, bucket: str, config: UploadConfig) -> None:
    """If the session is `done`, or anything reached the bucket, it is the recorder's zip."""
    sid = built.case.session_id
    found = _object(client, bucket, object_key(config, sid))
    status = listed[sid]["uploadStatus"]
    if status != "done":
        assert found is None, f"{built.case}: an object was written for a {status} session"
        return
    assert found is not None, f"{built.case}: done but no object"
    object_sha, metadata = found
    assert metadata.get("zip-sha256") == object_sha, f"{built.case}: zip-sha256 names another hash"
    if built.zip_sha256 is not None:
        expected = built.zip_sha256  # exported before the mutation: the recorder's bytes
    else:
        meta = json.loads(session_paths(data_dir, sid).meta.read_bytes())
        expected = meta["zipSha256"]  # exported by recovery from the mutated folder
    assert object_sha == expected, f"{built.case}: the object is not the zip that was recorded"


@pytest.mark.slow
def test_list_never_fails_on_a_thousand_corrupt_sessions() -> None:
    rng = random.Random(SEED)
    with hostile.user_tree() as base:
        victim = hostile.Victim.make(base / "outside")
        data_dir = base / "data"
        cases = [build(rng, data_dir, victim, hostile.T0 + i * 1000, include_mode_000=True).case
                 for i in range(LIST_CASES)]
        hostile.give_to_cli_user(data_dir)
        if hostile.is_root():
            victim.chown(hostile.NOBODY, hostile.NOBODY)
        kinds_seen = {case.kind for case in cases}
        assert kinds_seen == set(hostile.KINDS)
        for attempt in range(2):  # the first also recovers; the second lists what it left
            result = _run(data_dir, "list", "--json", timeout=600)
            assert result.returncode == 0, result.stderr[-2000:]
            listed = {item["sessionId"]: item for item in json.loads(result.stdout)}
            missing = [c for c in cases if c.session_id not in listed]
            assert not missing, f"attempt {attempt}: not listed: {missing[:5]}"
            victim.assert_unchanged()
        damaged = sum(1 for item in listed.values() if item["damaged"])
        # Most mutations break something the list must show; a few are harmless by design.
        assert damaged > LIST_CASES // 4, damaged


@pytest.mark.slow
def test_upload_wait_and_queue_wait_never_hang_and_never_call_corrupt_done(
        s3_server: S3Server, bucket: str) -> None:
    rng = random.Random(SEED + 1)
    client = s3_server.client()
    with hostile.user_tree() as base:
        victim = hostile.Victim.make(base / "outside")
        if hostile.is_root():
            victim.chown(hostile.NOBODY, hostile.NOBODY)
        outcomes: dict[str, int] = {}
        for i in range(UPLOAD_CASES):
            data_dir = base / f"upload-{i}"
            config = _configure(data_dir, s3_server, bucket)
            built = build(rng, data_dir, victim, hostile.T0 + i * 1000, include_mode_000=True)
            hostile.give_to_cli_user(data_dir)
            _run(data_dir, "list", "--json", timeout=60)  # recovery first, as a user would
            result = _run(data_dir, "upload", built.case.session_id, "--wait", timeout=90)
            listed = {item["sessionId"]: item
                      for item in json.loads(_run(data_dir, "list", "--json", timeout=60).stdout)}
            assert built.case.session_id in listed
            _check_done_means_verified(data_dir, built, listed, client, bucket, config)
            outcomes[listed[built.case.session_id]["uploadStatus"]] = outcomes.get(
                listed[built.case.session_id]["uploadStatus"], 0) + 1
            assert result.returncode in (0, 1, 2), result.returncode
            victim.assert_unchanged()

        data_dir = base / "queue"
        config = _configure(data_dir, s3_server, bucket)
        queued = [build(rng, data_dir, victim, hostile.T0 + 10**7 + i * 1000, include_mode_000=True)
                  for i in range(QUEUE_CASES)]
        hostile.give_to_cli_user(data_dir)
        _run(data_dir, "list", "--json", timeout=60)
        for built in queued:
            _run(data_dir, "upload", built.case.session_id, timeout=60)
        _run(data_dir, "queue", "--wait", timeout=300)
        listed = {item["sessionId"]: item
                  for item in json.loads(_run(data_dir, "list", "--json", timeout=60).stdout)}
        for built in queued:
            assert built.case.session_id in listed, built.case
            assert listed[built.case.session_id]["uploadStatus"] in ("done", "failed",
                                                                     "not_uploaded"), built.case
            _check_done_means_verified(data_dir, built, listed, client, bucket, config)
        victim.assert_unchanged()
        # The sample must exercise both ends: some clean enough to upload, some refused.
        assert outcomes.get("done", 0) > 0 and sum(outcomes.values()) - outcomes.get("done", 0) > 0, \
            outcomes
