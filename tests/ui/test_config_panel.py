"""The S3 settings panel: inline messages, Save, loading, Test Connection against moto's server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.upload.config import load_config
from app.widgets.upload_config_panel import UploadConfigPanel
from tests.ui.conftest import AppFactory

panel_marker = object()


def open_panel(qtbot: QtBot, data_dir: Path) -> UploadConfigPanel:
    panel = UploadConfigPanel(data_dir)
    qtbot.addWidget(panel)
    panel.show()
    panel.load()
    qtbot.waitUntil(lambda: panel.isEnabled(), timeout=10_000)
    return panel


def test_invalid_field_shows_its_sentence_inline_and_blocks_save(qtbot: QtBot, data_dir: Path) -> None:
    panel = open_panel(qtbot, data_dir)
    qtbot.keyClicks(panel.bucket, "Bad_Bucket")
    qtbot.keyClicks(panel.region, "us-east-1")
    error = panel.rows["bucket"]
    assert error.isVisible()
    assert "lower-case letters" in error.text()
    assert not panel.save_button.isEnabled()
    assert not panel.rows["region"].isVisible()
    panel.bucket.clear()
    qtbot.keyClicks(panel.bucket, "good-bucket")
    assert not panel.rows["bucket"].isVisible()


def test_key_prefix_preview_follows_typing(qtbot: QtBot, data_dir: Path) -> None:
    panel = open_panel(qtbot, data_dir)
    qtbot.keyClicks(panel.key_prefix, "team/{date}/")
    preview = panel.key_preview.text()
    assert preview.startswith("team/20") and preview.endswith("/20260101-120000-000-a1b2c3.zip")


def test_save_persists_and_a_new_panel_loads_it(qtbot: QtBot, data_dir: Path) -> None:
    panel = open_panel(qtbot, data_dir)
    assert "not configured" in panel.demo_label.text()
    qtbot.keyClicks(panel.bucket, "my-bucket")
    qtbot.keyClicks(panel.region, "eu-west-1")
    qtbot.keyClicks(panel.access_key, "AKIATESTKEY")
    qtbot.keyClicks(panel.secret, "s3cr3t-value")
    panel.part_size.setValue(16)
    assert panel.save_button.isEnabled()
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    saved = load_config(data_dir).value
    assert saved is not None and saved.bucket == "my-bucket" and saved.part_size_bytes == 16 * 1024 * 1024
    assert "s3cr3t-value" not in (data_dir / "upload-config.json").read_text()
    # No keyring in tests: the secret went to credentials.json and the panel says so.
    assert panel.loaded is not None and panel.loaded.storage == "file"
    assert "credentials.json" in panel.storage_label.text()
    assert panel.secret.text() == ""

    again = open_panel(qtbot, data_dir)
    assert (again.bucket.text(), again.region.text(), again.access_key.text()) == (
        "my-bucket", "eu-west-1", "AKIATESTKEY")
    assert again.config_is_valid() and not again.rows["secretAccessKey"].isVisible()


def test_test_connection_succeeds_against_moto(qtbot: QtBot, data_dir: Path,
                                               s3_config: Callable[..., Any]) -> None:
    s3_config()
    panel = open_panel(qtbot, data_dir)
    panel.test_button.click()
    qtbot.waitUntil(lambda: panel.result_label.text().startswith("Connected"), timeout=20_000)


def test_wrong_secret_shows_the_sentence(qtbot: QtBot, data_dir: Path, auth_s3_server: Any) -> None:
    writer = auth_s3_server.users["writer"]
    bucket = f"gui-wrong-secret-{id(panel_marker)}"
    auth_s3_server.client().create_bucket(Bucket=bucket)
    panel = open_panel(qtbot, data_dir)
    qtbot.keyClicks(panel.bucket, bucket)
    qtbot.keyClicks(panel.region, "us-east-1")
    qtbot.keyClicks(panel.endpoint, auth_s3_server.endpoint_url)
    qtbot.keyClicks(panel.access_key, writer.access_key_id)
    qtbot.keyClicks(panel.secret, "definitely-the-wrong-secret")
    panel.test_button.click()
    qtbot.waitUntil(lambda: not panel.busy and panel.last_test_result is not None, timeout=20_000)
    sentence = panel.result_label.text()
    assert sentence == panel.last_test_result
    assert "secret" in sentence.lower() or "credentials" in sentence.lower()
    assert "definitely-the-wrong-secret" not in sentence
    assert not (data_dir / "credentials.json").exists()  # testing saved nothing

    # The right secret, typed and not saved, is tried as typed and stays unsaved.
    panel.secret.clear()
    qtbot.keyClicks(panel.secret, writer.secret_access_key)
    panel.test_button.click()
    qtbot.waitUntil(lambda: not panel.busy and panel.result_label.text() != "Testing the connection…",
                    timeout=20_000)
    assert panel.last_test_result is None, panel.result_label.text()
    assert panel.result_label.text().startswith("Connected")
    assert not (data_dir / "credentials.json").exists()


def test_local_test_bucket_works_end_to_end_and_stops_with_the_app(qtbot: QtBot, data_dir: Path,
                                                                   app_factory: AppFactory) -> None:
    window, services = app_factory(data_dir, start_queue=False)
    panel = services.panel
    assert window.current_view() == "settings"  # first run: S3 needs doing
    assert not window.model.config_valid
    panel.demo_button.click()
    qtbot.waitUntil(lambda: "LOCAL, TEMPORARY" in panel.demo_label.text(), timeout=30_000)
    assert window.model.config_valid
    config = load_config(data_dir).value
    assert config is not None and config.endpoint_url == services.demo.endpoint_url
    panel.test_button.click()
    qtbot.waitUntil(lambda: panel.result_label.text().startswith("Connected"), timeout=20_000)
    demo = services.demo
    window.close()
    services.stop()
    assert services.demo is None and demo.process.poll() is not None


def _stored_panel(qtbot: QtBot, data_dir: Path, secret: str | None, token: str | None
                  ) -> UploadConfigPanel:
    from app.upload.config import UploadConfig, save_config
    from app.upload.s3.credentials import save_secrets

    save_config(data_dir, UploadConfig(bucket="my-bucket", region="eu-west-1",
                                       access_key_id="AKIATESTKEY"))
    if secret or token:
        save_secrets(data_dir, secretAccessKey=secret, sessionToken=token)
    return open_panel(qtbot, data_dir)


@pytest.mark.parametrize("stored_token", [False, True], ids=["no-saved-token", "saved-token"])
@pytest.mark.parametrize("typed_secret", [False, True], ids=["secret-untyped", "secret-typed"])
@pytest.mark.parametrize("typed_token", [False, True], ids=["token-untyped", "token-typed"])
def test_save_keeps_what_was_not_typed_and_stores_what_was(
        qtbot: QtBot, data_dir: Path, stored_token: bool, typed_secret: bool, typed_token: bool) -> None:
    from app.upload.s3.credentials import load_secrets

    panel = _stored_panel(qtbot, data_dir, "old-secret", "old-token" if stored_token else None)
    if typed_secret:
        qtbot.keyClicks(panel.secret, "new-secret")
    if typed_token:
        qtbot.keyClicks(panel.token, "new-token")
    qtbot.keyClicks(panel.bucket, "-2")  # something else changed too, so Save is a real save
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    stored = load_secrets(data_dir)
    assert stored.secret_access_key == ("new-secret" if typed_secret else "old-secret")
    assert stored.session_token == ("new-token" if typed_token else
                                    "old-token" if stored_token else None)
    assert panel.token.text() == "" and panel.secret.text() == ""

    # And what was saved is what the next start loads.
    again = open_panel(qtbot, data_dir)
    assert again.loaded is not None and again.loaded.has_secret
    assert again.loaded.has_token == (typed_token or stored_token)


def test_token_and_secret_typed_on_a_first_save_are_both_kept(qtbot: QtBot, data_dir: Path) -> None:
    from app.upload.s3.credentials import load_secrets

    panel = _stored_panel(qtbot, data_dir, None, None)
    qtbot.keyClicks(panel.secret, "first-secret")
    qtbot.keyClicks(panel.token, "first-token")
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    stored = load_secrets(data_dir)
    assert (stored.secret_access_key, stored.session_token) == ("first-secret", "first-token")


def test_a_saved_token_goes_only_when_asked(qtbot: QtBot, data_dir: Path) -> None:
    from app.upload.s3.credentials import load_secrets

    panel = _stored_panel(qtbot, data_dir, "old-secret", "old-token")
    assert panel.forget_token.isVisible() and "saved" in panel.token.placeholderText()
    qtbot.keyClicks(panel.secret, "permanent-secret")
    panel.forget_token.setChecked(True)
    assert not panel.token.isEnabled()  # a token typed now would contradict the box
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    stored = load_secrets(data_dir)
    assert (stored.secret_access_key, stored.session_token) == ("permanent-secret", None)
    assert not panel.forget_token.isVisible() and not panel.forget_token.isChecked()


def test_object_options_are_checked_and_saved(qtbot: QtBot, data_dir: Path) -> None:
    panel = _stored_panel(qtbot, data_dir, "old-secret", None)
    assert not panel.kms_key.isVisible()
    panel.storage_class.setCurrentIndex(panel.storage_class.findData("GLACIER_IR"))
    panel.encryption.setCurrentIndex(panel.encryption.findData("aws:kms"))
    assert panel.kms_key.isVisible()
    qtbot.keyClicks(panel.kms_key, "not a key")
    assert "KMS key id must be" in panel.rows["sseKmsKeyId"].text() and not panel.save_button.isEnabled()
    panel.kms_key.setText("alias/team-sessions")
    qtbot.keyClicks(panel.object_tags, "team=qa,oops")
    assert "is not key=value" in panel.rows["objectTags"].text() and not panel.save_button.isEnabled()
    panel.object_tags.setText("team=qa, aws:owner=me")
    assert "reserved by AWS" in panel.rows["objectTags"].text()
    panel.object_tags.setText("team=qa, case=checkout 4711")
    panel.acl.setChecked(True)
    assert panel.save_button.isEnabled()
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    saved = load_config(data_dir).value
    assert saved is not None
    assert (saved.storage_class, saved.server_side_encryption, saved.sse_kms_key_id, saved.acl) == (
        "GLACIER_IR", "aws:kms", "alias/team-sessions", "bucket-owner-full-control")
    assert saved.object_tags == {"team": "qa", "case": "checkout 4711"}
    again = open_panel(qtbot, data_dir)
    assert again.object_tags.text() == "team=qa,case=checkout 4711" and again.acl.isChecked()
    assert again.encryption.currentData() == "aws:kms" and again.kms_key.text() == "alias/team-sessions"


def _row_shown(panel: UploadConfigPanel, field: str) -> bool:
    return panel.form.isRowVisible(panel.rows[field].editor)


def test_destination_choice_shows_only_the_fields_that_apply(qtbot: QtBot, data_dir: Path) -> None:
    panel = open_panel(qtbot, data_dir)
    assert _row_shown(panel, "bucket") and not _row_shown(panel, "backendUrl")
    assert _row_shown(panel, "webhookUrl")  # any destination
    panel.backend.destination.setCurrentIndex(panel.backend.destination.findData("backend"))
    for field in ("bucket", "region", "accessKeyId", "secretAccessKey", "endpointUrl"):
        assert not _row_shown(panel, field), field
    for field in ("backendUrl", "backendProtocol", "backendToken", "presignPath", "webhookUrl"):
        assert _row_shown(panel, field), field
    panel.backend.protocol.setCurrentIndex(panel.backend.protocol.findData("companion"))
    assert not _row_shown(panel, "presignPath") and not _row_shown(panel, "authCheckPath")
    assert not panel.demo_button.isVisible()


def test_backend_settings_test_connection_and_save(qtbot: QtBot, data_dir: Path,
                                                   simple_backend: Any) -> None:
    from app.upload.secrets import load_secrets
    from tests.s3support.backend_fixtures import BACKEND_TOKEN

    panel = open_panel(qtbot, data_dir)
    panel.backend.destination.setCurrentIndex(panel.backend.destination.findData("backend"))
    qtbot.keyClicks(panel.backend.url, simple_backend.url)
    assert "token" in panel.rows["backendToken"].text()  # the simple contract needs one
    assert not panel.test_button.isEnabled()
    qtbot.keyClicks(panel.backend.token, "a-token-the-backend-refuses")
    panel.test_button.click()
    qtbot.waitUntil(lambda: not panel.busy and "Testing" not in panel.result_label.text(),
                    timeout=10_000)
    assert "refused the token" in panel.result_label.text()
    panel.backend.token.clear()
    qtbot.keyClicks(panel.backend.token, BACKEND_TOKEN)
    panel.test_button.click()
    qtbot.waitUntil(lambda: not panel.busy and "Testing" not in panel.result_label.text(),
                    timeout=10_000)
    assert "reachable and accepts the token" in panel.result_label.text()
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    saved = load_config(data_dir).value
    assert saved is not None and saved.destination == "backend"
    assert saved.backend_url == simple_backend.url and not saved.bucket
    assert load_secrets(data_dir).backend_token == BACKEND_TOKEN
    assert BACKEND_TOKEN not in (data_dir / "upload-config.json").read_text()
    assert panel.backend.token.text() == "" and "saved" in panel.backend.token.placeholderText()
