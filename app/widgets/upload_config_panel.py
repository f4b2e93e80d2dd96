"""UploadConfigPanel: the upload settings form with per-field messages, Test Connection and Save.

The destination comes first: an S3 bucket (keys on this computer) or a backend that signs each
upload (backend_fields.py); only the rows that apply to the choice are shown.

Every field is checked as it is typed with `validate_config` (the same sentences
the CLI prints), shown under the field. Loading, saving (the keyring can block
on D-Bus) and Test Connection run off the GUI thread.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.gui_executor import GuiExecutor
from app.upload.config import MIB, UploadConfig, object_key, validate_config
from app.upload.s3.object_options import STORAGE_CLASSES, format_tags, parse_tags
from app.widgets.backend_fields import BackendFields
from app.widgets.session_card import error_colour

log = logging.getLogger(__name__)

PREVIEW_SESSION_ID = "20260101-120000-000-a1b2c3"
CREDENTIAL_MODES = ("Access key and secret", "AWS profile", "Default AWS credentials (environment, "
                    "~/.aws, instance role)")


@dataclasses.dataclass(frozen=True)
class LoadedSettings:
    config: UploadConfig | None
    problem: str | None
    has_secret: bool
    storage: str  # "keyring" | "file" | "none"
    warning: str | None
    has_token: bool = False
    has_backend_token: bool = False
    has_webhook_secret: bool = False


def load_settings(data_dir: Path) -> LoadedSettings:
    from app.upload.config import load_config
    from app.upload.secrets import load_secrets, storage_warning

    loaded = load_config(data_dir)
    secrets = load_secrets(data_dir)
    return LoadedSettings(loaded.value, loaded.problem, bool(secrets.secret_access_key),
                          secrets.storage, storage_warning(data_dir), bool(secrets.session_token),
                          bool(secrets.backend_token), bool(secrets.webhook_secret))


def secret_changes(secret: str | None, token: str | None, clear_secrets: bool,
                   forget_token: bool) -> dict[str, str | None]:
    """What Save changes in the secret store: only what was typed (an empty field keeps the
    saved value), both removed when access keys are no longer used, the token removed only
    when asked (a new permanent secret does not imply the old token is wrong)."""
    if clear_secrets:
        return {"secretAccessKey": None, "sessionToken": None}
    changes: dict[str, str | None] = {}
    if secret:
        changes["secretAccessKey"] = secret
    if token:
        changes["sessionToken"] = token
    elif forget_token:
        changes["sessionToken"] = None
    return changes


def save_settings(data_dir: Path, config: UploadConfig, secret: str | None, token: str | None,
                  clear_secrets: bool, forget_token: bool = False,
                  other_secrets: dict[str, str] | None = None) -> LoadedSettings:
    """`other_secrets`: typed backendToken / webhookSecret (camelCase), saved as they are."""
    from app.upload.config import save_config
    from app.upload.secrets import save_secrets

    save_config(data_dir, config)
    changes: dict[str, str | None] = {
        **secret_changes(secret, token, clear_secrets, forget_token), **(other_secrets or {})}
    if changes:
        save_secrets(data_dir, **changes)
    return load_settings(data_dir)


def check_connection(data_dir: Path, config: UploadConfig, secret: str | None,
                     token: str | None, forget_token: bool = False) -> str | None:
    """None when the bucket answers, else one sentence. Newly typed, unsaved secrets are
    tried as they are (each empty field uses the saved value, as Save would keep it) and
    stored nowhere, so testing never saves anything."""
    from app.upload.s3.connection import test_connection
    from app.upload.s3.credentials import StoredSecrets, load_secrets

    if config.destination_kind == "backend":
        from app.upload.destination import destination_for

        return destination_for(data_dir, config).test_connection(
            {"backendToken": token} if token else None)
    typed = None
    if secret or token or forget_token:
        saved = load_secrets(data_dir)
        typed = StoredSecrets(secret or saved.secret_access_key,
                              token or (None if forget_token else saved.session_token), "none")
    result: str | None = test_connection(data_dir, config, typed)
    return result


class WrappedLabel(QLabel):
    """A word-wrapped label whose height fits its text at the width it really gets."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def heightForWidth(self, width: int) -> int:
        usable = max(width, self.width(), 200)
        rect = self.fontMetrics().boundingRect(0, 0, usable, 10_000,
                                               int(Qt.TextFlag.TextWordWrap), self.text())
        return rect.height() + 2

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        # Before the first layout width() is a placeholder (~100 px): a hint for that width
        # would reserve many lines; the layout asks heightForWidth for the real width anyway.
        return QSize(hint.width(), self.heightForWidth(max(self.width(), 600)))


class FieldErrorLabel(WrappedLabel):
    """The error sentence under one field (its own form row, so it wraps to any width)."""

    def __init__(self, editor: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.setVisible(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_error(self, sentence: str | None) -> None:
        self.setText(sentence or "")
        self.setVisible(bool(sentence))
        self.setStyleSheet(f"color: {error_colour(self.palette()).name()};")
        self.editor.setAccessibleDescription(sentence or "")


class UploadConfigPanel(QGroupBox):
    saved = Signal(object)          # UploadConfig
    configValidityChanged = Signal(bool)
    demoRequested = Signal()

    def __init__(self, data_dir: Path, parent: QWidget | None = None,
                 executor: GuiExecutor | None = None) -> None:
        super().__init__("Upload settings", parent)
        self.data_dir = data_dir
        # Loading and saving may wait on the keyring (D-Bus), Test Connection on the network.
        self.executor = executor or GuiExecutor(parent=self)
        self.loaded: LoadedSettings | None = None
        self.problems: dict[str, str] = {}
        self.busy = False
        self.last_test_result: str | None = None
        self._base = UploadConfig(bucket="", region="")
        self._loading = True  # no validation while fields are being filled in

        self.bucket = QLineEdit(self)
        self.bucket.setPlaceholderText("my-sessions-bucket")
        self.region = QLineEdit(self)
        self.region.setPlaceholderText("us-east-1")
        self.key_prefix = QLineEdit(self)
        self.key_prefix.setPlaceholderText("sessions/{host}/{date}/")
        self.key_prefix.setToolTip("Put in front of every object key; {host}, {user} and {date} "
                                   "are replaced.")
        self.key_preview = QLabel(self)
        self.key_preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.endpoint = QLineEdit(self)
        self.endpoint.setPlaceholderText("empty for Amazon S3, or https://s3.example.com")
        self.allow_http = QCheckBox("Allow plain http to a non-local endpoint", self)
        self.credential_mode = QComboBox(self)
        self.credential_mode.addItems(CREDENTIAL_MODES)
        self.access_key = QLineEdit(self)
        self.access_key.setPlaceholderText("AKIA…")
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Secret access key")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("only for temporary credentials")
        self.forget_token = QCheckBox("Remove the saved session token", self)
        self.forget_token.setToolTip("For permanent access keys after temporary ones; an empty "
                                     "token field otherwise keeps the saved token.")
        self.forget_token.toggled.connect(self._forget_token_toggled)
        self.storage_label = WrappedLabel(self)
        self.profile = QLineEdit(self)
        self.profile.setPlaceholderText("default")
        self.part_size = QSpinBox(self)
        self.part_size.setRange(1, 5120)
        self.part_size.setSuffix(" MiB")
        self.concurrency = QSpinBox(self)
        self.concurrency.setRange(0, 64)
        self.retries = QSpinBox(self)
        self.retries.setRange(-1, 1000)
        self.bandwidth = QSpinBox(self)
        self.bandwidth.setRange(0, 10_000_000)
        self.bandwidth.setSuffix(" KiB/s")
        self.bandwidth.setSpecialValueText("No limit")
        self.delete_after = QCheckBox("Delete the local files once an upload is verified", self)
        self.checksum_when_required = QCheckBox(
            "Send checksums only when required (some S3-compatible stores need this)", self)
        # What a bucket policy may require of every object.
        self.storage_class = QComboBox(self)
        self.storage_class.addItem("Bucket default", None)
        for name in STORAGE_CLASSES:
            self.storage_class.addItem(name, name)
        self.encryption = QComboBox(self)
        self.encryption.addItem("Bucket default", None)
        self.encryption.addItem("AES256 (keys managed by S3)", "AES256")
        self.encryption.addItem("aws:kms (a KMS key)", "aws:kms")
        self.kms_key = QLineEdit(self)
        self.kms_key.setPlaceholderText("empty for the AWS managed key, or a key id, ARN or alias/name")
        self.object_tags = QLineEdit(self)
        self.object_tags.setPlaceholderText("team=qa,project=checkout")
        self.acl = QCheckBox("Give the bucket owner full control (ACL bucket-owner-full-control)", self)
        self.auto_upload = QCheckBox("Upload each recording as soon as it is saved (after Stop)", self)
        self.auto_upload.setToolTip("Also sessions recovered after a crash. Turns on by itself after "
                                    "the first successful Test Connection, unless you turned it off.")
        self._auto_touched = False
        self.auto_upload.toggled.connect(self._auto_upload_toggled)

        self.backend = BackendFields(self)
        self.rows: dict[str, FieldErrorLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form = form

        def add(field: str, label: str, editor: QWidget) -> None:
            error = FieldErrorLabel(editor, self)
            self.rows[field] = error
            label_widget = QLabel(label, self)
            label_widget.setBuddy(editor)
            form.addRow(label_widget, editor)
            form.addRow("", error)

        backend = self.backend
        add("destination", "Desti&nation:", backend.destination)
        add("backendUrl", "Backend &URL:", backend.url)
        add("backendProtocol", "Backend protocol:", backend.protocol)
        add("backendToken", "Backend token:", backend.token)
        add("authCheckPath", "Auth check path:", backend.auth_check)
        add("presignPath", "Presign path:", backend.presign)
        add("fileRecordPath", "File record path:", backend.file_record)
        add("bucket", "&Bucket:", self.bucket)
        add("region", "Re&gion:", self.region)
        add("keyPrefix", "&Key prefix:", self.key_prefix)
        form.addRow("Object key:", self.key_preview)
        add("endpointUrl", "E&ndpoint URL:", self.endpoint)
        form.addRow("", self.allow_http)
        add("credentials", "&Credentials:", self.credential_mode)
        add("accessKeyId", "&Access key id:", self.access_key)
        add("secretAccessKey", "&Secret access key:", self.secret)
        add("sessionToken", "Session &token:", self.token)
        form.addRow("", self.forget_token)
        form.addRow("", self.storage_label)
        add("profile", "&Profile:", self.profile)
        add("partSizeBytes", "Part si&ze:", self.part_size)
        add("concurrency", "Parallel pa&rts:", self.concurrency)
        add("maxRetries", "Retr&ies:", self.retries)
        add("maxBandwidthBytesPerSec", "Band&width cap:", self.bandwidth)
        add("storageClass", "Storage c&lass:", self.storage_class)
        add("serverSideEncryption", "Encr&yption:", self.encryption)
        add("sseKmsKeyId", "K&MS key:", self.kms_key)
        add("objectTags", "Object ta&gs:", self.object_tags)
        form.addRow("", self.acl)
        add("webhookUrl", "Webhook URL:", backend.webhook_url)
        add("webhookSecret", "Webhook secret:", backend.webhook_secret)
        form.addRow("", self.auto_upload)
        form.addRow("", self.delete_after)
        form.addRow("", self.checksum_when_required)

        self.demo_button = QPushButton("Use a local test bucket", self)
        self.demo_button.setToolTip("Starts a temporary S3-compatible server on this computer for as "
                                    "long as the app runs; uploads to it are lost when the app quits.")
        self.demo_button.clicked.connect(self.demoRequested)
        self.demo_label = QLabel(self)
        self.demo_label.setWordWrap(True)
        self.test_button = QPushButton("&Test Connection", self)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button = QPushButton("Sa&ve", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName("Result")

        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.demo_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result_label)

        for edit in (self.bucket, self.region, self.key_prefix, self.endpoint, self.access_key,
                     self.secret, self.token, self.profile, self.kms_key, self.object_tags,
                     *backend.text_edits()):
            edit.textChanged.connect(self.revalidate)
        backend.destination.currentIndexChanged.connect(self._mode_changed)
        backend.protocol.currentIndexChanged.connect(self._mode_changed)
        self.storage_class.currentIndexChanged.connect(self.revalidate)
        self.encryption.currentIndexChanged.connect(self._encryption_changed)
        self.acl.toggled.connect(self.revalidate)
        for spin in (self.part_size, self.concurrency, self.retries, self.bandwidth):
            spin.valueChanged.connect(self.revalidate)
        self.allow_http.toggled.connect(self.revalidate)
        self.credential_mode.currentIndexChanged.connect(self._mode_changed)
        for label in (self.key_preview, self.storage_label, self.demo_label, self.result_label):
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.show_config(None)
        self.setEnabled(False)  # until the saved settings are loaded

    # --- loading ----------------------------------------------------------------------------
    def load(self, on_loaded: Callable[[LoadedSettings], None] | None = None) -> None:
        def done(settings: LoadedSettings) -> None:
            self._apply_loaded(settings)
            if on_loaded is not None:
                on_loaded(settings)

        def failed(exc: BaseException) -> None:
            self.setEnabled(True)
            self._set_result(f"The settings could not be read: {exc}", ok=False)

        self.executor.submit(lambda: load_settings(self.data_dir), done, failed, "load-config")

    def _apply_loaded(self, settings: LoadedSettings) -> None:
        self.loaded = settings
        self.setEnabled(True)
        self.show_config(settings.config)
        if settings.problem:
            self._set_result(f"upload-config.json could not be read ({settings.problem}); fix the "
                             "fields and save to replace it.", ok=False)
        self._show_storage()
        self.demo_button.setVisible(self.backend.kind == "s3")
        self.demo_label.setText("" if settings.config else
                                "S3 is not configured yet. Fill in your bucket, or try everything "
                                "first with a local test bucket.")
        self.revalidate()

    def show_config(self, config: UploadConfig | None) -> None:
        config = config or UploadConfig(bucket="", region="")
        self._loading = True
        self.bucket.setText(config.bucket)
        self.region.setText(config.region)
        self.key_prefix.setText(config.key_prefix)
        self.endpoint.setText(config.endpoint_url or "")
        self.allow_http.setChecked(config.allow_http)
        self.access_key.setText(config.access_key_id or "")
        self.profile.setText(config.profile or "")
        mode = 0 if config.access_key_id else 1 if config.profile else (
            2 if config.bucket else 0)
        self.credential_mode.setCurrentIndex(mode)
        self.part_size.setValue(max(1, config.part_size_bytes // MIB))
        self.concurrency.setValue(config.concurrency)
        self.retries.setValue(config.max_retries)
        self.bandwidth.setValue((config.max_bandwidth_bytes_per_sec or 0) // 1024)
        self.delete_after.setChecked(config.delete_after_upload)
        self.checksum_when_required.setChecked(config.checksum_when_required)
        self.auto_upload.setChecked(config.auto_upload is True)
        self.storage_class.setCurrentIndex(max(0, self.storage_class.findData(config.storage_class)))
        self.encryption.setCurrentIndex(max(0, self.encryption.findData(config.server_side_encryption)))
        self.kms_key.setText(config.sse_kms_key_id or "")
        self.object_tags.setText(format_tags(config.object_tags))
        self.acl.setChecked(config.acl is not None)
        self.backend.show(config)
        self._auto_touched = False
        self.secret.clear()
        self.token.clear()
        self.forget_token.setChecked(False)
        self._base = config
        self._loading = False
        self._mode_changed()

    def _show_storage(self) -> None:
        settings = self.loaded
        if settings is None:
            return
        if settings.storage == "keyring":
            text = "A secret is saved in the system keyring. Leave the field empty to keep it."
            self.secret.setPlaceholderText("•••••••• (saved in the keyring)")
            self.storage_label.setStyleSheet("")
        elif settings.storage == "file":
            text = "⚠ " + (settings.warning or "The secret is stored in credentials.json.") + \
                " Leave the field empty to keep it."
            self.secret.setPlaceholderText("•••••••• (saved in credentials.json)")
            self.storage_label.setStyleSheet(f"color: {error_colour(self.palette()).name()};")
        else:
            text = "The secret goes to the system keyring, or to credentials.json (readable only by " \
                   "you) where no keyring exists."
            self.secret.setPlaceholderText("")
            self.storage_label.setStyleSheet("")
        self.storage_label.setText(text)
        self.token.setPlaceholderText(
            "•••••••• (saved; leave empty to keep it)" if settings.has_token
            else "only for temporary credentials")
        self.backend.show_saved(settings.has_backend_token, settings.has_webhook_secret)
        self._mode_changed()

    def _mode_changed(self) -> None:
        s3 = self.backend.kind == "s3"
        mode = self.credential_mode.currentIndex()
        for field, row in self.rows.items():
            self.form.setRowVisible(row.editor, self.backend.applies(field))
        for field in ("accessKeyId", "secretAccessKey", "sessionToken"):
            self.form.setRowVisible(self.rows[field].editor, s3 and mode == 0)
        self.form.setRowVisible(self.storage_label, s3 and mode == 0)
        has_token = bool(self.loaded and self.loaded.has_token)
        self.form.setRowVisible(self.forget_token, s3 and mode == 0 and has_token)
        self.form.setRowVisible(self.rows["profile"].editor, s3 and mode == 1)
        for s3_only in (self.acl, self.checksum_when_required):
            self.form.setRowVisible(s3_only, s3)
        self.demo_button.setVisible(s3)
        self._encryption_changed()

    def _encryption_changed(self) -> None:
        self.form.setRowVisible(self.kms_key, self.backend.kind == "s3"
                                and self.encryption.currentData() == "aws:kms")
        self.revalidate()

    # --- the config on screen ----------------------------------------------------------------
    def current_config(self) -> UploadConfig:
        mode = self.credential_mode.currentIndex()
        bandwidth = self.bandwidth.value() * 1024
        return dataclasses.replace(
            self._base,
            bucket=self.bucket.text().strip(),
            region=self.region.text().strip(),
            key_prefix=self.key_prefix.text().strip(),
            endpoint_url=self.endpoint.text().strip() or None,
            allow_http=self.allow_http.isChecked(),
            access_key_id=(self.access_key.text().strip() or None) if mode == 0 else None,
            profile=(self.profile.text().strip() or None) if mode == 1 else None,
            part_size_bytes=self.part_size.value() * MIB,
            concurrency=self.concurrency.value(),
            max_retries=self.retries.value(),
            max_bandwidth_bytes_per_sec=bandwidth or None,
            delete_after_upload=self.delete_after.isChecked(),
            checksum_when_required=self.checksum_when_required.isChecked(),
            # Never chosen stays "never chosen", so a later passing test can still turn it on.
            auto_upload=(self.auto_upload.isChecked()
                         if self._auto_touched or self._base.auto_upload is not None else None),
            storage_class=self.storage_class.currentData(),
            server_side_encryption=self.encryption.currentData(),
            sse_kms_key_id=(self.kms_key.text().strip() or None
                            if self.encryption.currentData() == "aws:kms" else None),
            object_tags=self._typed_tags(),
            acl="bucket-owner-full-control" if self.acl.isChecked() else None,
            **self.backend.values(),
        )

    def _typed_tags(self) -> dict[str, str] | None:
        try:
            return parse_tags(self.object_tags.text()) or None
        except ValueError:
            return self._base.object_tags  # the sentence is shown by revalidate()

    def _auto_upload_toggled(self, _checked: bool) -> None:
        if not self._loading:
            self._auto_touched = True

    def _turn_on_auto_upload(self, tested: UploadConfig) -> str:
        """After a passing test: auto upload on, if it was never chosen. Saved at once when
        nothing else on screen is unsaved (else with the next Save). Returns words to add."""
        from app.upload.config import auto_upload_after_test

        turned_on = auto_upload_after_test(tested)
        if turned_on is None:
            return ""
        saved = self.loaded.config if self.loaded else None
        self.auto_upload.setChecked(True)  # marks it chosen
        if saved is not None and dataclasses.replace(saved, auto_upload=None) == \
                dataclasses.replace(tested, auto_upload=None):
            data_dir = self.data_dir

            def done(settings: LoadedSettings) -> None:
                self.loaded = settings
                self._base = turned_on
                self.saved.emit(turned_on)

            self.executor.submit(lambda: save_settings(data_dir, turned_on, None, None, False), done,
                                 lambda exc: log.warning("saving autoUpload failed: %s", exc),
                                 "save-config")
            return " Auto upload is now on: each recording is uploaded as soon as it is saved."
        return " Auto upload turns on when you save these settings."

    def _forget_token_toggled(self, checked: bool) -> None:
        if checked:
            self.token.clear()
        self.token.setEnabled(not checked)

    def _has_secret(self) -> bool:
        return bool(self.secret.text()) or bool(self.loaded and self.loaded.has_secret)

    def revalidate(self) -> dict[str, str]:
        if self._loading:
            return {}
        config = self.current_config()
        problems = dict(validate_config(config))
        try:
            parse_tags(self.object_tags.text())
        except ValueError as exc:
            problems["objectTags"] = str(exc)
        problems.update(self.backend.problems(config))
        if self.backend.kind == "backend":
            pass  # no AWS credentials on this computer
        elif self.credential_mode.currentIndex() == 0:
            if not config.access_key_id and "accessKeyId" not in problems:
                problems["accessKeyId"] = "Enter the access key id, or choose a profile."
            if not self._has_secret():
                problems["secretAccessKey"] = "Enter the secret access key."
        elif self.credential_mode.currentIndex() == 1 and not config.profile:
            problems["profile"] = "Enter the name of a profile from ~/.aws/config."
        self.problems = problems
        for field, row in self.rows.items():
            row.set_error(problems.get(field))
            if not self.form.isRowVisible(row.editor):
                row.setVisible(False)
        # Problems of fields without a row still reach the person.
        others = [text for field, text in problems.items() if field not in self.rows]
        if others:
            self._set_result(" ".join(others), ok=False)
        if "keyPrefix" in problems:
            self.key_preview.setText("—")
        else:
            self.key_preview.setText(object_key(config, PREVIEW_SESSION_ID))
        self.save_button.setEnabled(not problems and not self.busy)
        self.test_button.setEnabled(not problems and not self.busy)
        return problems

    def _set_result(self, text: str, ok: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet(
            "" if ok else f"color: {error_colour(self.palette()).name()};")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.revalidate()

    # --- actions ----------------------------------------------------------------------------
    def test_connection(self) -> None:
        if self.revalidate():
            return
        config = self.current_config()
        secret, token = self.secret.text() or None, self.token.text() or None
        if config.destination_kind == "backend":
            secret, token = None, self.backend.typed_secrets().get("backendToken")
        forget_token = self.forget_token.isChecked()
        self._set_busy(True)
        self._set_result("Testing the connection…", ok=True)

        def done(problem: str | None) -> None:
            self._set_busy(False)
            self.last_test_result = problem
            if problem:
                self._set_result(problem, ok=False)
            else:
                from app.upload.destination import describe

                what = (f"bucket {config.bucket} is reachable and writable"
                        if config.destination_kind == "s3"
                        else f"{describe(config)} is reachable and accepts the token")
                self._set_result(f"Connected: {what} with these settings."
                                 + self._turn_on_auto_upload(config), ok=True)

        def failed(exc: BaseException) -> None:
            done("The connection could not be tested; see the log for details.")

        self.executor.submit(lambda: check_connection(self.data_dir, config, secret, token, forget_token),
                             done, failed, "test-connection")

    def save(self) -> None:
        if self.revalidate():
            return
        config = self.current_config()
        mode = self.credential_mode.currentIndex()
        secret, token = self.secret.text() or None, self.token.text() or None
        others = self.backend.typed_secrets()
        s3 = config.destination_kind == "s3"
        forget_token = self.forget_token.isChecked()
        self._set_busy(True)

        def done(settings: LoadedSettings) -> None:
            self._set_busy(False)
            self.loaded = settings
            self._base = config
            self.secret.clear()
            self.token.clear()
            self.forget_token.setChecked(False)
            self.backend.clear_secrets()
            self._show_storage()
            self.demo_label.setText("")
            where = {"keyring": "the system keyring", "file": "credentials.json"}.get(settings.storage)
            self._set_result("Saved." + (f" The secret is in {where}." if where and mode == 0 else ""),
                             ok=True)
            self.revalidate()
            self.saved.emit(config)

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self._set_result(f"The settings could not be saved: {exc}", ok=False)

        self.executor.submit(lambda: save_settings(self.data_dir, config, secret if s3 else None,
                                                   token if s3 else None,
                                                   clear_secrets=s3 and mode != 0,
                                                   forget_token=s3 and forget_token,
                                                   other_secrets=others),
                             done, failed, "save-config")

    def demo_available(self) -> bool:
        """The "Use a local test bucket" button can be pressed (none is starting or running)."""
        return self.demo_button.isEnabled()

    def set_demo_available(self, available: bool) -> None:
        self.demo_button.setEnabled(available)

    def set_demo_status(self, text: str) -> None:
        self.demo_label.setText(text)

    def config_is_valid(self) -> bool:
        return self.loaded is not None and self.loaded.config is not None and not validate_config(
            self.loaded.config)


