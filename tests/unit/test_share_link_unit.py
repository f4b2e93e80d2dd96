"""Link lifetimes: the DURATION syntax, the 7-day limit of signature version 4, and the notes."""

from __future__ import annotations

import pytest

from app.upload.s3.share_link import MAX_EXPIRES_S, LinkError, ShareLink, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("7d", 7 * 86400), ("12h", 43200), ("30m", 1800), ("45s", 45), ("3600", 3600),
    ("1d12h", 129600), ("1w", 604800), (" 2h 30m ", 9000), ("7D", 604800),
])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_more_than_seven_days_is_refused_with_the_reason() -> None:
    with pytest.raises(LinkError) as caught:
        parse_duration("8d")
    assert str(caught.value) == ("A link can be valid for at most 7 days (8d was asked): S3 refuses "
                                 "signature version 4 links that last longer. Ask for 7d or less.")
    assert caught.value.usage
    with pytest.raises(LinkError):
        parse_duration(str(MAX_EXPIRES_S + 1))


@pytest.mark.parametrize("text", ["", "soon", "7x", "-5", "0", "1.5h", "d7", "7d junk"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(LinkError):
        parse_duration(text)


def test_notes_say_how_long_and_when_temporary_credentials_end_it() -> None:
    link = ShareLink("https://example/x?X-Amz-Signature=abc", "s", "k", 90_000, 1_700_090_000.0,
                     temporary_credentials=False)
    assert link.notes() == ["The link works for 1 day 1 hour (until 2023-11-15 23:13 UTC) for anyone "
                            "who has it."]
    assert "X-Amz" not in repr(link)
    temporary = ShareLink("u", "s", "k", 3600, 1_700_003_600.0, temporary_credentials=True)
    assert temporary.notes()[1] == ("The credentials it is signed with are temporary (they include a "
                                    "session token): the link stops working when they expire, even if "
                                    "that is earlier.")
    known = ShareLink("u", "s", "k", 3600, 1_700_003_600.0, True, credentials_expire_at=1_700_001_800.0)
    assert "expire at 2023-11-14 22:43 UTC" in known.notes()[1] and known.ends_at == 1_700_001_800.0
