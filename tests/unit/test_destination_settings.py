"""The destination settings: per-destination validation, the backend's keys and secrets, the
factory that picks the destination."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.paths import config_path, credentials_path
from app.upload.config import (
    DEFAULT_AUTH_CHECK_PATH,
    DEFAULT_FILE_RECORD_PATH,
    DEFAULT_PRESIGN_PATH,
    UploadConfig,
    load_config,
    save_config,
    validate_config,
)

BACKEND = UploadConfig(destination="backend", backend_url="https://uploads.example.com")


def test_a_backend_needs_no_bucket_region_or_keys() -> None:
    assert validate_config(BACKEND) == {}
    assert (BACKEND.protocol, BACKEND.auth_check, BACKEND.presign, BACKEND.file_record) == \
        ("simple", DEFAULT_AUTH_CHECK_PATH, DEFAULT_PRESIGN_PATH, DEFAULT_FILE_RECORD_PATH)
    # ... while s3, the default, still needs both.
    assert set(validate_config(UploadConfig())) == {"bucket", "region"}
    assert UploadConfig().destination_kind == "s3"


def test_the_backend_url_follows_the_endpoint_rule() -> None:
    def problem(**changes: object) -> str | None:
        values = {"destination": "backend", "backend_url": "https://b.example.com", **changes}
        return validate_config(UploadConfig(**values)).get("backendUrl")  # type: ignore[arg-type]

    assert problem(backend_url=None) == "Enter the backend URL, for example https://uploads.example.com."
    assert problem(backend_url="http://b.example.com") == (
        "The backend URL must use https unless it is on this computer "
        "(set allowHttp to true to allow plain http).")
    assert problem(backend_url="http://127.0.0.1:3020") is None
    assert problem(backend_url="http://b.example.com", allow_http=True) is None
    assert problem(backend_url="https://user:pw@b.example.com") == (
        "The backend URL must not contain a user name or password.")
    assert problem(backend_url="ftp://b.example.com") == (
        "The backend URL must start with https:// and name a host.")
    # The endpoint's own sentences are unchanged.
    s3 = UploadConfig(bucket="my-bucket", region="eu-west-1", endpoint_url="http://s3.example.com")
    assert validate_config(s3)["endpointUrl"].startswith("The endpoint URL must use https")


def test_protocol_paths_and_destination_sentences() -> None:
    bad = UploadConfig(destination="backend", backend_url="https://b.example.com",
                       backend_protocol="tus", auth_check_path="api/me",
                       presign_path="/a/../b", file_record_path="/files?x=1")
    problems = validate_config(bad)
    assert problems["backendProtocol"] == "The backend protocol must be simple or companion."
    for key in ("authCheckPath", "presignPath", "fileRecordPath"):
        assert problems[key].startswith("The ") and "starts with '/'" in problems[key]
    assert validate_config(UploadConfig(destination="ftp")) == {
        "destination": "The destination must be s3 or backend."}
    good = UploadConfig(destination="backend", backend_url="https://b.example.com",
                        backend_protocol="companion", auth_check_path="/me")
    assert validate_config(good) == {} and good.auth_check == "/me"


def test_the_webhook_url_is_checked_for_every_destination() -> None:
    s3 = UploadConfig(bucket="my-bucket", region="eu-west-1", webhook_url="http://hooks.example.com")
    assert validate_config(s3)["webhookUrl"].startswith("The webhook URL must use https")
    assert validate_config(UploadConfig(bucket="my-bucket", region="eu-west-1",
                                        webhook_url="https://hooks.example.com/x")) == {}


def test_an_s3_file_is_written_as_before(data_dir: Path) -> None:
    # No new key appears in the settings of an S3 destination.
    save_config(data_dir, UploadConfig(bucket="my-bucket", region="eu-west-1"))
    written = json.loads(config_path(data_dir).read_text())
    assert not {"destination", "backendUrl", "backendProtocol", "webhookUrl"} & set(written)
    save_config(data_dir, BACKEND)
    loaded = load_config(data_dir).value
    assert loaded == BACKEND


def test_destination_for_picks_by_the_setting(data_dir: Path) -> None:
    from app.upload.backend.destination import BackendDestination
    from app.upload.destination import describe, destination_for
    from app.upload.records.recording import RecordingDestination
    from app.upload.s3.destination import S3Destination

    s3 = destination_for(data_dir, UploadConfig(bucket="my-bucket", region="eu-west-1"))
    assert isinstance(s3, S3Destination) and s3.describe() == "the bucket 'my-bucket'"
    assert describe(BACKEND) == "the backend at uploads.example.com"
    backend = destination_for(data_dir, BACKEND)
    # The simple contract records every upload (fileRecordPath), so the backend is wrapped.
    assert isinstance(backend, RecordingDestination)
    assert isinstance(backend.inner, BackendDestination)
    assert backend.describe() == "the backend at uploads.example.com"


def test_config_set_backend_and_its_token_from_stdin(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main
    from app.upload.secrets import load_secrets

    base = ["--data-dir", str(data_dir), "config", "set"]
    assert main([*base, "destination=backend", "backendUrl=http://uploads.example.com"]) == 2
    err = capsys.readouterr().err
    assert "backendUrl: The backend URL must use https" in err
    assert not config_path(data_dir).exists()  # nothing changed
    token = "tok-" + "s3cr3t" * 5
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    assert main([*base, "destination=backend", "backendUrl=https://uploads.example.com",
                 "backendProtocol=companion", "backendToken"]) == 0
    out = capsys.readouterr()
    assert token not in out.out + out.err
    config = load_config(data_dir).value
    assert config is not None and config.destination == "backend" and config.protocol == "companion"
    assert token not in config_path(data_dir).read_text()
    assert load_secrets(data_dir).backend_token == token
    assert credentials_path(data_dir).stat().st_mode & 0o777 == 0o600  # no keyring in tests
    monkeypatch.setattr("sys.stdin", io.StringIO("hook-secret-value\n"))
    assert main([*base, "webhookUrl=https://hooks.example.com/in", "webhookSecret"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "config", "show"]) == 0
    shown = capsys.readouterr()
    assert token not in shown.out + shown.err and "hook-secret-value" not in shown.out + shown.err
    values = json.loads(shown.out)
    assert values["backendToken"] == "****" and values["webhookSecret"] == "****"
    assert values["webhookUrl"] == "https://hooks.example.com/in"
    assert load_secrets(data_dir).backend_token == token  # kept when another secret was set
