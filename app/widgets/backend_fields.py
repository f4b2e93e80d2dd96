"""The settings panel's destination choice and the rows only a backend (or a webhook) uses.

`UploadConfigPanel` owns the form; this holds the editors of `destination`, `backendUrl`,
`backendProtocol`, `backendToken`, the simple contract's three paths, `webhookUrl` and
`webhookSecret`, says which rows apply to what is chosen, and turns them into config values
and typed (unsaved) secrets. Secrets are never shown: an empty field keeps the saved one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from app.upload.config import (
    DEFAULT_AUTH_CHECK_PATH,
    DEFAULT_FILE_RECORD_PATH,
    DEFAULT_PRESIGN_PATH,
    UploadConfig,
)

# Rows (by camelCase field) of the S3 destination only; the panel hides them for a backend.
S3_ONLY = ("bucket", "region", "endpointUrl", "credentials", "accessKeyId", "secretAccessKey",
           "sessionToken", "profile", "storageClass", "serverSideEncryption", "sseKmsKeyId",
           "objectTags")
BACKEND_ONLY = ("backendUrl", "backendProtocol", "backendToken")
SIMPLE_ONLY = ("authCheckPath", "presignPath", "fileRecordPath")


def _secret_edit(parent: QWidget, name: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    return edit


class BackendFields:
    def __init__(self, parent: QWidget) -> None:
        self.destination = QComboBox(parent)
        self.destination.addItem("An S3 bucket (access keys on this computer)", "s3")
        self.destination.addItem("A backend that signs each upload (no AWS key here)", "backend")
        self.url = QLineEdit(parent)
        self.url.setPlaceholderText("https://uploads.example.com")
        self.protocol = QComboBox(parent)
        self.protocol.addItem("Simple: auth check, presigned PUT, file record", "simple")
        self.protocol.addItem("Uppy Companion: presigned multipart, resumable", "companion")
        self.token = _secret_edit(parent, "Backend token")
        self.auth_check = QLineEdit(parent)
        self.auth_check.setPlaceholderText(DEFAULT_AUTH_CHECK_PATH)
        self.presign = QLineEdit(parent)
        self.presign.setPlaceholderText(DEFAULT_PRESIGN_PATH)
        self.file_record = QLineEdit(parent)
        self.file_record.setPlaceholderText(DEFAULT_FILE_RECORD_PATH)
        self.webhook_url = QLineEdit(parent)
        self.webhook_url.setPlaceholderText("optional: https://hooks.example.com/sessionrec")
        self.webhook_secret = _secret_edit(parent, "Webhook secret")
        self.has_token = False
        self.has_webhook_secret = False

    def editors(self) -> dict[str, QWidget]:
        return {"destination": self.destination, "backendUrl": self.url,
                "backendProtocol": self.protocol, "backendToken": self.token,
                "authCheckPath": self.auth_check, "presignPath": self.presign,
                "fileRecordPath": self.file_record, "webhookUrl": self.webhook_url,
                "webhookSecret": self.webhook_secret}

    def text_edits(self) -> list[QLineEdit]:
        return [self.url, self.token, self.auth_check, self.presign, self.file_record,
                self.webhook_url, self.webhook_secret]

    @property
    def kind(self) -> str:
        return str(self.destination.currentData() or "s3")

    def applies(self, field: str) -> bool:
        """Whether the row of `field` applies to the destination and protocol chosen."""
        backend = self.kind == "backend"
        if field in S3_ONLY:
            return not backend
        if field in BACKEND_ONLY:
            return backend
        if field in SIMPLE_ONLY:
            return backend and self.protocol.currentData() == "simple"
        return True

    def show(self, config: UploadConfig) -> None:
        self.destination.setCurrentIndex(max(0, self.destination.findData(config.destination_kind)))
        self.url.setText(config.backend_url or "")
        self.protocol.setCurrentIndex(max(0, self.protocol.findData(config.protocol)))
        self.auth_check.setText(config.auth_check_path or "")
        self.presign.setText(config.presign_path or "")
        self.file_record.setText(config.file_record_path or "")
        self.webhook_url.setText(config.webhook_url or "")
        self.token.clear()
        self.webhook_secret.clear()

    def show_saved(self, has_token: bool, has_webhook_secret: bool) -> None:
        self.has_token, self.has_webhook_secret = has_token, has_webhook_secret
        saved = "•••••••• (saved; leave empty to keep it)"
        self.token.setPlaceholderText(saved if has_token else "the bearer token the backend gave you")
        self.webhook_secret.setPlaceholderText(saved if has_webhook_secret
                                               else "the secret the receiver checks signatures with")

    def values(self) -> dict[str, Any]:
        """The config fields of these rows (those that do not apply keep their saved values,
        except that an S3 destination carries no backend)."""
        backend = self.kind == "backend"

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        return {
            "destination": "backend" if backend else None,
            "backend_url": text(self.url) if backend else None,
            "backend_protocol": (self.protocol.currentData() if backend and
                                 self.protocol.currentData() != "simple" else None),
            "auth_check_path": text(self.auth_check) if backend else None,
            "presign_path": text(self.presign) if backend else None,
            "file_record_path": text(self.file_record) if backend else None,
            "webhook_url": text(self.webhook_url),
        }

    def typed_secrets(self) -> dict[str, str]:
        typed = {}
        if self.token.text() and self.kind == "backend":
            typed["backendToken"] = self.token.text()
        if self.webhook_secret.text():
            typed["webhookSecret"] = self.webhook_secret.text()
        return typed

    def problems(self, config: UploadConfig) -> dict[str, str]:
        """Sentences validate_config cannot give: a secret the chosen settings need."""
        problems = {}
        if self.kind == "backend" and config.protocol == "simple" and not self.has_token \
                and not self.token.text():
            problems["backendToken"] = "Enter the token the backend gave you."
        if config.webhook_url and not self.has_webhook_secret and not self.webhook_secret.text():
            problems["webhookSecret"] = "Enter the secret the webhook's receiver checks signatures with."
        return problems

    def clear_secrets(self) -> None:
        self.token.clear()
        self.webhook_secret.clear()
