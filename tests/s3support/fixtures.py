"""pytest fixtures for the S3 tests; registered from tests/conftest.py via `pytest_plugins`.

- `s3_server`: one in-process moto S3 server on 127.0.0.1 (port 0) for the whole run.
- `auth_s3_server`: a moto server in a child process that checks credentials for real.
- `bucket`: a fresh, empty bucket per test (emptied and removed afterwards).
- `s3_config(**overrides)`: writes a valid upload-config.json + test secret into `data_dir`
  and returns the UploadConfig.
- `fault_proxy`: a FaultProxy between the client and `s3_server`.
- `memory_keyring`: an in-memory keyring backend (the "keyring available" path).
Every test runs with the keyring forced to "no backend" unless it asks for
`memory_keyring`, so no test ever touches a developer's real keyring.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.s3support.proxy import FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server

_bucket_numbers = itertools.count(1)


class InMemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (tests only)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def _no_real_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(_no_real_keyring: None) -> InMemoryKeyring:
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_s3_server() -> Iterator[S3Server]:
    server = S3Server(auth=True).start()
    yield server
    server.stop()


def _empty_bucket(client: Any, name: str) -> None:
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def bucket(s3_server: S3Server) -> Iterator[str]:
    client = s3_server.client()
    name = f"test-bucket-{os.getpid()}-{next(_bucket_numbers)}"
    client.create_bucket(Bucket=name)
    yield name
    # moto keeps objects in memory: free them so a long run stays small.
    _empty_bucket(client, name)


@pytest.fixture
def s3_config(data_dir: Path, s3_server: S3Server, bucket: str) -> Callable[..., Any]:
    from app.upload.config import UploadConfig, save_config, validate_config
    from app.upload.s3.credentials import save_secrets

    def make(secret_access_key: str = OPEN_SECRET_KEY, session_token: str | None = None,
             **overrides: Any) -> UploadConfig:
        values: dict[str, Any] = {
            "bucket": bucket, "region": "us-east-1", "endpoint_url": s3_server.endpoint_url,
            "access_key_id": OPEN_ACCESS_KEY, "part_size_bytes": 5 * 1024 * 1024,
            "concurrency": 4, "read_timeout_sec": 20.0, "connect_timeout_sec": 5.0,
        }
        values.update(overrides)
        config = UploadConfig(**values)
        problems = validate_config(config)
        assert not problems, problems
        save_config(data_dir, config)
        save_secrets(data_dir, secretAccessKey=secret_access_key, sessionToken=session_token)
        return config

    return make


@pytest.fixture
def fault_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    proxy = FaultProxy(s3_server.host, s3_server.port)
    yield proxy
    proxy.stop()
