"""Which buttons a session card offers, for every status, plus damaged and not-exported sessions."""

from __future__ import annotations

import pytest

from app.models import UPLOAD_STATUSES, SessionListItem, UploadStatus
from app.upload.records.document import WEBHOOK, unset_sentence
from app.upload.session.progress import Progress
from app.widgets.card_state import (
    KEPT_UPLOAD_NOTE,
    card_buttons,
    progress_fraction,
    progress_text,
    status_badge,
    status_line,
)


def item(status: UploadStatus, *, exported: bool = True, damaged: bool = False,
         **extra: object) -> SessionListItem:
    return SessionListItem(session_id="20260101-000000-000-abcdef", created_at=1, is_exported=exported,
                           upload_status=status, damaged=damaged,
                           damaged_reason="session-meta.json is missing" if damaged else None,
                           **extra)  # type: ignore[arg-type]


# status -> (upload, retry, cancel, delete, second confirmation) with a valid config, exported zip
EXPECTED = {
    "not_uploaded": (True, False, False, True, True),
    "pending": (False, False, True, False, True),
    "uploading": (False, False, True, False, True),
    "done": (False, False, False, True, False),
    "failed": (False, True, False, True, True),
}


def test_every_status_has_an_expectation() -> None:
    assert set(EXPECTED) == set(UPLOAD_STATUSES)


@pytest.mark.parametrize("status", UPLOAD_STATUSES)
def test_buttons_per_status(status: UploadStatus) -> None:
    buttons = card_buttons(item(status), config_valid=True)
    upload, retry, cancel, delete, second = EXPECTED[status]
    assert (buttons.upload, buttons.retry, buttons.cancel, buttons.delete,
            buttons.delete_needs_second_confirmation) == (upload, retry, cancel, delete, second)
    assert buttons.open_folder
    assert [buttons.enabled(a) for a in ("upload", "retry", "cancel", "delete")] == [
        upload, retry, cancel, delete]


@pytest.mark.parametrize("status", UPLOAD_STATUSES)
def test_without_valid_config_nothing_can_be_uploaded(status: UploadStatus) -> None:
    buttons = card_buttons(item(status), config_valid=False)
    assert not buttons.upload
    if status == "not_uploaded":
        assert buttons.upload_blocked_reason == "Configure the upload settings first."
        assert "upload" in buttons.visible_actions()  # shown disabled, with the reason
    else:
        assert buttons.upload_blocked_reason is None
        assert "upload" not in buttons.visible_actions()


@pytest.mark.parametrize("status", UPLOAD_STATUSES)
def test_not_exported_sessions_cannot_be_uploaded_or_retried(status: UploadStatus) -> None:
    buttons = card_buttons(item(status, exported=False), config_valid=True)
    assert not buttons.upload and not buttons.retry
    if status == "not_uploaded":
        assert buttons.upload_blocked_reason is not None
        assert "exported" in buttons.upload_blocked_reason


@pytest.mark.parametrize("status", UPLOAD_STATUSES)
def test_damaged_sessions_offer_no_upload_but_can_be_opened(status: UploadStatus) -> None:
    buttons = card_buttons(item(status, damaged=True), config_valid=True)
    assert not buttons.upload and not buttons.retry
    assert buttons.open_folder
    # A damaged session is deleted only by the person, and never while queued.
    assert buttons.delete == (status not in ("pending", "uploading"))
    if status == "not_uploaded":
        assert buttons.upload_blocked_reason is not None
        assert "damaged" in buttons.upload_blocked_reason


def test_visible_actions_follow_the_state() -> None:
    assert card_buttons(item("failed"), True).visible_actions() == ["retry", "open_folder", "delete"]
    assert card_buttons(item("uploading"), True).visible_actions() == ["cancel", "open_folder", "delete"]
    assert card_buttons(item("done"), True).visible_actions() == ["open_folder", "delete"]


def test_badges() -> None:
    assert (status_badge(item("not_uploaded")).colour, status_badge(item("done")).colour) == (
        "grey", "green")
    assert status_badge(item("uploading")).colour == "blue"
    assert status_badge(item("failed")).text == "Failed"
    waiting = item("pending", next_attempt_at=61_000)
    assert status_badge(waiting, now_ms=1_000) .text == "Retry in 1m 00s"
    assert status_badge(waiting, now_ms=61_000).text == "Pending"
    assert status_badge(waiting, now_ms=1_000).colour == "amber"


def test_progress_text_and_fraction() -> None:
    uploading = item("uploading", bytes_uploaded=10, total_bytes=40)
    live = Progress(20, 40, 2 * 1024 * 1024, 65)
    assert progress_text(uploading, live) == "50% · 2.0 MiB/s · 1m 05s left"
    assert progress_fraction(uploading, live) == 0.5
    assert progress_text(uploading, None) == "25%"
    assert progress_fraction(item("done", bytes_uploaded=40, total_bytes=40), None) is None
    assert progress_fraction(item("pending", total_bytes=40), None) is None  # not started yet
    assert progress_fraction(item("pending", bytes_uploaded=8, total_bytes=40), None) == 0.2


def test_search_matches_word_starts_phrases_and_every_field() -> None:
    from app.models import SessionListItem
    from app.widgets.card_state import matches, search_terms, search_text

    item = SessionListItem(session_id="20260127-100157-234-0004d2", created_at=1769508117028,
                           is_exported=True, upload_status="failed", title="Checkout: coupon ignored",
                           note="Ticket ÄB-12\nsecond line")
    text = search_text(item)
    assert matches(text, search_terms("check COUPON"))
    assert matches(text, search_terms("äb-12"))  # case-folded, a phrase across the hyphen
    assert matches(text, search_terms("20260127-100157-234-0004d2"))
    assert matches(text, search_terms("0004d2"))
    assert not matches(text, search_terms("out"))  # inside a word: no
    assert not matches(text, search_terms("checkout missing"))  # every term must match
    assert search_terms('"27 Jan 2026"  x') == [" 27 jan 2026", " x"]
    assert search_terms("  ") == [] and matches(text, [])


def test_bulk_targets_follow_the_card_buttons() -> None:
    from app.models import SessionListItem
    from app.widgets.card_state import bulk_targets

    def item(sid: str, status: str, **extra: object) -> SessionListItem:
        fields: dict[str, object] = {"is_exported": True, **extra}
        return SessionListItem(session_id=sid, created_at=1, upload_status=status,  # type: ignore[arg-type]
                               **fields)  # type: ignore[arg-type]

    items = [item("a", "failed"), item("b", "failed", damaged=True), item("c", "pending"),
             item("d", "not_uploaded"), item("e", "done"), item("f", "failed", is_exported=False)]
    assert bulk_targets(items, "retry", True) == ["a"]
    assert bulk_targets(items, "cancel", True) == ["c"]
    assert bulk_targets(items, "upload", True) == ["d"] and bulk_targets(items, "upload", False) == []
    assert bulk_targets(items, "delete", True) == ["a", "b", "d", "e", "f"]


def test_a_failed_session_that_keeps_its_upload_offers_cancel_and_says_so() -> None:
    kept = item("failed", last_upload_error="Access denied.", multipart_upload_open=True)
    assert card_buttons(kept, True).visible_actions() == ["retry", "cancel", "open_folder", "delete"]
    line = status_line(kept)
    assert line.tone == "error" and line.text == f"Access denied. {KEPT_UPLOAD_NOTE}"
    assert "Cancel" not in status_line(item("failed", last_upload_error="Access denied.")).text


def test_a_waiting_session_shows_the_error_and_the_time_of_its_next_try() -> None:
    import time

    now = int(time.time() * 1000)
    waiting = item("pending", last_upload_error="The server had a temporary problem.",
                   next_attempt_at=now + 90_000, retry_count=2, bytes_uploaded=5, total_bytes=10)
    expected_clock = time.strftime("%H:%M:%S", time.localtime((now + 90_000) / 1000))
    line = status_line(waiting, now_ms=now)
    assert line.text.startswith("The server had a temporary problem. Next try at ")
    assert expected_clock in line.text and "(in 1m 30s)" in line.text and "(retry 2)" in line.text
    # Due now: the sentence stays, the time goes.
    assert status_line(waiting, now_ms=now + 90_000).text == \
        "The server had a temporary problem. (retry 2)"


@pytest.mark.parametrize("status", UPLOAD_STATUSES)
def test_play_is_offered_on_every_card_with_a_video(status: UploadStatus) -> None:
    with_video = card_buttons(item(status, has_video=True, ended_at=5), config_valid=True)
    assert with_video.play and "play" in with_video.visible_actions()
    without = card_buttons(item(status, has_video=False, ended_at=5), config_valid=True)
    assert not without.play and "play" not in without.visible_actions()
    damaged = card_buttons(item(status, damaged=True, has_video=True), config_valid=True)
    assert damaged.play  # the viewer shows what can be read and says what is damaged


def test_play_waits_while_a_session_is_still_being_recorded() -> None:
    recording = card_buttons(item("not_uploaded", exported=False, has_video=True), config_valid=True)
    assert not recording.play and "play" in recording.visible_actions()
    assert recording.blocked_reason("play") == (
        "The session is still being recorded (or is being finished after a crash).")


def test_copy_link_only_for_an_uploaded_session_with_a_key() -> None:
    done = card_buttons(item("done", s3_key="a/b.zip", has_video=True, ended_at=5), config_valid=True)
    assert done.copy_link and done.visible_actions() == ["copy_link", "play", "open_folder", "delete"]
    assert not card_buttons(item("done"), True).copy_link_shown  # no key recorded: nothing to sign
    for status in ("not_uploaded", "pending", "uploading", "failed"):
        assert not card_buttons(item(status, s3_key="a/b.zip"), True).copy_link_shown
    unconfigured = card_buttons(item("done", s3_key="a/b.zip"), config_valid=False)
    assert not unconfigured.copy_link and "copy_link" in unconfigured.visible_actions()
    assert "Configure S3 in Settings first" in (unconfigured.blocked_reason("copy_link") or "")


def test_done_card_says_when_its_file_record_is_not_delivered() -> None:
    waiting = status_line(item("done", s3_key="k.zip", file_record_delivered=False,
                               file_record_error="The webhook at h:1 cannot be reached."))
    assert waiting.text == ("Uploaded to k.zip · file record not delivered yet "
                            "(The webhook at h:1 cannot be reached)")
    assert waiting.tone == "normal"
    delivered = status_line(item("done", s3_key="k.zip", file_record_delivered=True))
    assert delivered.text == "Uploaded to k.zip" and delivered.tone == "muted"


def test_bulk_counts_are_the_bulk_targets_of_each_action() -> None:
    from app.widgets.card_state import CardAction, bulk_counts, bulk_targets

    items = [item(status) for status in ("not_uploaded", "pending", "failed", "done", "uploading")]
    actions: tuple[CardAction, ...] = ("upload", "retry", "cancel", "delete")
    for config_valid in (True, False):
        counts = bulk_counts(items, actions, config_valid)
        assert counts == {a: len(bulk_targets(items, a, config_valid)) for a in actions}
    assert bulk_counts(items, actions, True)["delete"] == len(items) - 2  # queued cards are kept


def test_done_card_says_plainly_when_its_record_waits_for_a_webhook_setting() -> None:
    sentence = unset_sentence([WEBHOOK])
    waiting = status_line(item("done", s3_key="k.zip", file_record_delivered=False,
                               file_record_error=sentence, file_record_waiting_for_setting=True))
    assert waiting.text == f"Uploaded to k.zip · {sentence}"
    assert "No webhook is set; the file record will be sent when one is" in waiting.text
    assert "not delivered yet" not in waiting.text  # nothing is being retried
