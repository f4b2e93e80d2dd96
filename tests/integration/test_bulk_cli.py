"""`retry --all-failed` and `upload --all-not-uploaded` through the command line: on disk when
nobody owns the queue, handed to the owner (in batches) when a `queue --wait` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.sessions import session_paths
from app.upload.queue.handoff import send_in_batches
from tests.factories import make_session
from tests.integration.queue_helpers import (
    all_states_parse,
    maybe_state,
    poll,
    run_cli,
    start_cli,
    state,
)

T0 = 1_700_000_000_000


def test_retry_all_failed_and_upload_all_not_uploaded_on_disk(data_dir: Path, s3_config) -> None:
    s3_config()
    failed = [make_session(data_dir, T0 + i, status="failed") for i in range(3)]
    done = make_session(data_dir, T0 + 10, status="done")
    fresh = [make_session(data_dir, T0 + 20 + i) for i in range(2)]
    unexported = make_session(data_dir, T0 + 30, exported=False)
    damaged = make_session(data_dir, T0 + 40, status="failed")
    session_paths(data_dir, damaged).meta.write_text("{broken")

    retried = run_cli(data_dir, "retry", "--all-failed")
    assert retried.returncode == 0, retried.stderr
    assert [line.split(":")[0] for line in retried.stdout.splitlines()] == failed  # oldest first
    states = all_states_parse(data_dir)
    assert all(states[s].status == "pending" and states[s].retry_count == 0 for s in failed)
    assert states[done].status == "done" and states[damaged].status == "failed"

    again = run_cli(data_dir, "retry", "--all-failed")
    assert again.returncode == 0 and "No failed uploads to retry." in again.stdout

    uploaded = run_cli(data_dir, "upload", "--all-not-uploaded")
    assert uploaded.returncode == 0, uploaded.stderr
    assert [line.split(":")[0] for line in uploaded.stdout.splitlines()] == fresh
    assert all(state(data_dir, s).status == "pending" for s in fresh)
    assert unexported not in all_states_parse(data_dir)

    assert run_cli(data_dir, "retry", "--all-failed", failed[0]).returncode == 2
    assert run_cli(data_dir, "upload", "--all-not-uploaded", fresh[0]).returncode == 2
    assert run_cli(data_dir, "upload").returncode == 2
    assert run_cli(data_dir, "retry").returncode == 2


def test_upload_all_not_uploaded_wait_uploads_them(data_dir: Path, s3_config) -> None:
    s3_config()
    fresh = [make_session(data_dir, T0 + i) for i in range(3)]
    result = run_cli(data_dir, "upload", "--all-not-uploaded", "--wait", timeout=120)
    assert result.returncode == 0, result.stderr
    assert all(state(data_dir, s).status == "done" for s in fresh)
    none_left = run_cli(data_dir, "upload", "--all-not-uploaded")
    assert none_left.returncode == 0 and "uploaded or queued already" in none_left.stdout


@pytest.mark.slow
def test_retry_all_failed_is_handed_to_the_owner_in_batches(data_dir: Path, s3_config,
                                                            fault_proxy) -> None:
    # The hand-off takes 50 ids a request; 60 failed sessions need two. A throttled upload
    # keeps the owner (`queue --wait`) busy, so it is there to take them.
    s3_config(endpoint_url=fault_proxy.endpoint_url)
    fault_proxy.throttle_bytes_per_sec = 1024 * 1024
    failed = [make_session(data_dir, T0 + i, status="failed", zip_bytes=512, actions=2)
              for i in range(60)]
    blocker = make_session(data_dir, T0 - 1, zip_bytes=4 * 1024 * 1024)
    assert run_cli(data_dir, "upload", blocker).returncode == 0
    owner = start_cli(data_dir, "queue", "--wait")
    try:
        poll(lambda: (s := maybe_state(data_dir, blocker)) is not None and s.status == "uploading",
             timeout=30)
        result = run_cli(data_dir, "retry", "--all-failed", timeout=120)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == failed
        assert all(f"queued in the upload queue of process {owner.pid}" in line for line in lines)
        poll(lambda: all(state(data_dir, s).status == "done" for s in failed), timeout=120)
        _out, err = owner.communicate(timeout=60)
        assert owner.returncode == 0, err
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_send_in_batches_splits_and_merges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sent: list[list[str]] = []

    def fake_send(_data_dir: Path, _op: str, ids: list[str]) -> dict[str, str | None]:
        sent.append(ids)
        return {i: None if int(i[-1]) % 2 else "no" for i in ids}

    monkeypatch.setattr("app.upload.queue.handoff.send_request", fake_send)
    ids = [f"s{i}" for i in range(7)]
    answers = send_in_batches(tmp_path, "retry", ids, batch=3)
    assert sent == [ids[:3], ids[3:6], ids[6:]]
    assert answers == {i: None if int(i[-1]) % 2 else "no" for i in ids}
