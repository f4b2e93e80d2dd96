"""The webhook file record: signed, retried until accepted, across a restart, never twice,
and never in the way of the next upload."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from app.upload.secrets import save_secrets
from tests.integration.queue_helpers import maybe_state, run_cli, start_cli, state
from tests.integration.upload_helpers import MIB, session_with_zip, zip_bytes
from tests.s3support.backend_fixtures import WEBHOOK_SECRET
from tests.s3support.webhook_receiver import WebhookReceiver, signature


def _with_webhook(data_dir: Path, s3_config: Any, receiver: WebhookReceiver,
                  secret: str = WEBHOOK_SECRET, max_retries: int = 2) -> None:
    s3_config(webhook_url=receiver.url, backoff_base_sec=0.1, backoff_cap_sec=1.0,
              max_retries=max_retries)
    save_secrets(data_dir, webhookSecret=secret)


def _item(data_dir: Path, session_id: str) -> dict[str, Any]:
    listed = run_cli(data_dir, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return next(i for i in json.loads(listed.stdout) if i["sessionId"] == session_id)


def test_record_survives_an_outage_and_a_restart_and_arrives_once(
        data_dir: Path, s3_config: Any, webhook_receiver: WebhookReceiver) -> None:
    _with_webhook(data_dir, s3_config, webhook_receiver)
    webhook_receiver.stop()  # down for the whole first run
    sessions = [session_with_zip(data_dir, 1 * MIB) for _ in range(2)]
    first = run_cli(data_dir, "upload", *sessions, "--wait")
    # The uploads are done; the records wait (on disk) and say so.
    assert first.returncode == 0, first.stderr
    assert "file record is not delivered yet" in first.stderr
    for session_id in sessions:
        done = state(data_dir, session_id)
        assert done.status == "done"
        assert done.file_record is not None and done.file_record.pending == ["webhook"]
        assert done.file_record.attempts >= 1 and done.file_record.last_error
        item = _item(data_dir, session_id)
        assert item["uploadStatus"] == "done" and item["fileRecordDelivered"] is False
        assert "webhook" in item["fileRecordError"]
    bodies = {s: state(data_dir, s).file_record.body for s in sessions}  # type: ignore[union-attr]

    # Back, but refusing the first three POSTs; a new process picks the records up.
    webhook_receiver.start()
    webhook_receiver.fail_first(3)
    second = run_cli(data_dir, "queue", "--wait")
    assert second.returncode == 0, second.stderr
    assert webhook_receiver.refused == 3
    assert webhook_receiver.accepted == {s: 1 for s in sessions}  # exactly one per session
    assert webhook_receiver.bad_signatures == 0  # every POST carried a valid signature
    for session_id in sessions:
        record = webhook_receiver.records[session_id]
        # The very document stored at verification time, whatever happened in between.
        assert json.dumps(record, separators=(",", ":"), ensure_ascii=False) == bodies[session_id]
        assert record["sessionId"] == session_id
        assert record["size"] == len(zip_bytes(data_dir, session_id))
        delivered = state(data_dir, session_id).file_record
        assert delivered is not None and delivered.pending == [] and delivered.delivered_at
        assert _item(data_dir, session_id)["fileRecordDelivered"] is True
    # A third run sends nothing again.
    posts = webhook_receiver.posts
    assert run_cli(data_dir, "queue", "--wait").returncode == 0
    assert webhook_receiver.posts == posts


def test_wrong_secret_is_detected_by_the_receiver(
        data_dir: Path, s3_config: Any, webhook_receiver: WebhookReceiver) -> None:
    _with_webhook(data_dir, s3_config, webhook_receiver, secret="not-the-shared-secret",
                  max_retries=0)
    session_id = session_with_zip(data_dir, 1 * MIB)
    result = run_cli(data_dir, "upload", session_id, "--wait")
    assert result.returncode == 0, result.stderr
    assert webhook_receiver.bad_signatures >= 1 and not webhook_receiver.accepted
    record = state(data_dir, session_id).file_record
    assert record is not None and record.pending == ["webhook"]
    assert record.last_error is not None and "signature" in record.last_error
    assert "not-the-shared-secret" not in result.stderr + result.stdout
    # The receiver's check is a real one: the right secret's signature of the body matches.
    assert signature(WEBHOOK_SECRET, record.body.encode()) != \
        signature("not-the-shared-secret", record.body.encode())


def test_a_waiting_record_does_not_hold_the_next_upload(
        data_dir: Path, s3_config: Any, webhook_receiver: WebhookReceiver) -> None:
    _with_webhook(data_dir, s3_config, webhook_receiver, max_retries=50)
    webhook_receiver.stop()
    first, second = session_with_zip(data_dir, 1 * MIB), session_with_zip(data_dir, 1 * MIB)
    proc = start_cli(data_dir, "upload", first, second, "--wait")
    # Both objects are done while the first record is still being retried.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = maybe_state(data_dir, second)
        if found is not None and found.status == "done":
            break
        time.sleep(0.05)
    assert state(data_dir, second).status == "done"
    record = state(data_dir, first).file_record
    assert record is not None and record.pending == ["webhook"]
    webhook_receiver.start()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert webhook_receiver.accepted == {first: 1, second: 1}


def test_a_record_whose_webhook_was_removed_waits_untried_until_one_is_set_again(
        data_dir: Path, s3_config: Any, webhook_receiver: WebhookReceiver) -> None:
    _with_webhook(data_dir, s3_config, webhook_receiver, max_retries=0)
    webhook_receiver.stop()
    session_id = session_with_zip(data_dir, 1 * MIB)
    assert run_cli(data_dir, "upload", session_id, "--wait").returncode == 0
    failed_once = state(data_dir, session_id).file_record
    assert failed_once is not None and failed_once.pending == ["webhook"]

    # The webhook is removed from the settings (and its receiver is up again: any POST shows).
    s3_config(webhook_url=None, backoff_base_sec=0.1, backoff_cap_sec=1.0, max_retries=2)
    webhook_receiver.start()
    for _ in range(2):  # a second start neither tries nor rewrites it
        result = run_cli(data_dir, "queue", "--wait")
        assert result.returncode == 0, result.stderr
        assert "No webhook is set; the file record will be sent when one is" in result.stderr
        assert "not delivered yet" not in result.stderr
        waiting = state(data_dir, session_id).file_record
        assert waiting is not None and waiting.pending == ["webhook"]
        assert waiting.waiting_for_setting and waiting.next_attempt_at is None
        assert waiting.attempts == failed_once.attempts  # not counted as a failure
        assert waiting.last_error and waiting.last_error.startswith("No webhook is set")
        assert webhook_receiver.posts == 0
    item = _item(data_dir, session_id)
    assert item["fileRecordDelivered"] is False and item["fileRecordWaitingForSetting"] is True
    assert item["fileRecordError"].startswith("No webhook is set")

    # Set again: the very record goes out, once, signed; nothing says it waits any more.
    _with_webhook(data_dir, s3_config, webhook_receiver)
    result = run_cli(data_dir, "queue", "--wait")
    assert result.returncode == 0, result.stderr
    assert webhook_receiver.accepted == {session_id: 1} and webhook_receiver.bad_signatures == 0
    sent = state(data_dir, session_id).file_record
    assert sent is not None and sent.pending == [] and not sent.waiting_for_setting
    assert sent.body == failed_once.body
    item = _item(data_dir, session_id)
    assert item["fileRecordDelivered"] is True and "fileRecordWaitingForSetting" not in item
