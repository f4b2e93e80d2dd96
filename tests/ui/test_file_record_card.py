"""The card follows its file record as the sender reports it: "not delivered yet" with the
failed attempt's sentence while the webhook is down, gone once the record is accepted, with
no re-read of the session from disk. Real queue on its QThread, moto's S3 server, and the
signature-checking webhook receiver."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.upload.secrets import save_secrets
from app.widgets.card_state import status_line
from tests.factories import make_session
from tests.s3support.backend_fixtures import WEBHOOK_SECRET
from tests.s3support.webhook_receiver import WebhookReceiver
from tests.ui.conftest import AppFactory
from tests.ui.helpers import click_card_button, status_of

NOW = int(time.time() * 1000)
NOT_DELIVERED = "file record not delivered yet"


def card_line(window: Any, session_id: str) -> str:
    item = window.model.item(session_id)
    return status_line(item).text if item is not None else ""


def count_disk_reads(window: Any) -> list[str]:
    """Every reload or refresh of a session from disk the window makes from here on."""
    reads: list[str] = []
    reload, refresh = window.reload_sessions, window.refresh_session

    def counted_reload(*args: Any, **kwargs: Any) -> Any:
        reads.append("reload")
        return reload(*args, **kwargs)

    def counted_refresh(*args: Any, **kwargs: Any) -> Any:
        reads.append("refresh")
        return refresh(*args, **kwargs)

    window.reload_sessions, window.refresh_session = counted_reload, counted_refresh
    return reads


@pytest.mark.slow
def test_the_card_shows_delivery_of_the_file_record_without_a_disk_read(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any],
        webhook_receiver: WebhookReceiver, app_factory: AppFactory) -> None:
    s3_config(webhook_url=webhook_receiver.url, backoff_base_sec=0.1, backoff_cap_sec=1.0,
              max_retries=100)
    save_secrets(data_dir, webhookSecret=WEBHOOK_SECRET)
    webhook_receiver.stop()  # down: the first attempts fail
    session_id = make_session(data_dir, NOW, zip_bytes=64 * 1024)
    window, _services = app_factory(data_dir)
    reports: list[Any] = []
    window.queue.fileRecordChanged.connect(reports.append)
    reads = count_disk_reads(window)
    click_card_button(qtbot, window.session_view, session_id, "upload")
    # Uploaded; the record waits, and the card says why (the failed attempt's sentence).
    qtbot.waitUntil(lambda: status_of(window, session_id) == "done"
                    and NOT_DELIVERED in card_line(window, session_id)
                    and "webhook" in card_line(window, session_id), timeout=60_000)
    assert reads == []
    item = window.model.item(session_id)
    assert item is not None and item.file_record_delivered is False and item.file_record_error

    webhook_receiver.start()
    qtbot.waitUntil(lambda: NOT_DELIVERED not in card_line(window, session_id), timeout=60_000)
    assert card_line(window, session_id).startswith("Uploaded to ")
    item = window.model.item(session_id)
    assert item is not None and item.file_record_delivered is True
    assert item.file_record_error is None
    assert reads == []  # the report alone moved the card
    assert webhook_receiver.accepted == {session_id: 1}
    assert webhook_receiver.bad_signatures == 0
    # The reports came in order: stored, failed attempt(s), then delivered.
    ours = [r for r in reports if r.session_id == session_id]
    assert ours[0].delivered is False and ours[-1].delivered is True
    assert any(r.error and "webhook" in r.error for r in ours[:-1])


@pytest.mark.slow
def test_removing_the_webhook_says_so_on_the_card_and_setting_it_again_sends_the_record(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any],
        webhook_receiver: WebhookReceiver, app_factory: AppFactory) -> None:
    s3_config(webhook_url=webhook_receiver.url, backoff_base_sec=0.1, backoff_cap_sec=1.0,
              max_retries=0)
    save_secrets(data_dir, webhookSecret=WEBHOOK_SECRET)
    webhook_receiver.stop()
    session_id = make_session(data_dir, NOW, zip_bytes=64 * 1024)
    window, shell = app_factory(data_dir)
    reads = count_disk_reads(window)
    click_card_button(qtbot, window.session_view, session_id, "upload")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "done"
                    and NOT_DELIVERED in card_line(window, session_id), timeout=60_000)

    # Saved without a webhook (what the panel's Save does): the card says so plainly.
    shell.panel.saved.emit(s3_config(backoff_base_sec=0.1, backoff_cap_sec=1.0, max_retries=0))
    qtbot.waitUntil(lambda: "No webhook is set" in card_line(window, session_id),
                    timeout=30_000)
    assert NOT_DELIVERED not in card_line(window, session_id)

    # Saved with it again, the receiver up: the record goes out now, not at the next start.
    webhook_receiver.start()
    shell.panel.saved.emit(s3_config(webhook_url=webhook_receiver.url, backoff_base_sec=0.1,
                                     backoff_cap_sec=1.0, max_retries=0))
    qtbot.waitUntil(lambda: (item := window.model.item(session_id)) is not None
                    and item.file_record_delivered is True, timeout=30_000)
    assert card_line(window, session_id).startswith("Uploaded to ")
    assert "No webhook" not in card_line(window, session_id)
    assert webhook_receiver.accepted == {session_id: 1}
    assert reads == []
