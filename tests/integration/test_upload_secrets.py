"""Secrets: keyring and file paths, and a canary secret that must never leak anywhere."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.paths import config_path, credentials_path
from app.upload.config import UploadConfig
from app.upload.s3.credentials import FILE_WARNING, load_secrets, save_secrets, storage_warning
from tests.integration.upload_helpers import MIB, session_with_zip
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import REPO_ROOT, S3Server

CANARY = "CANARY-secret-7f3a9c1e5b2d4680-do-not-leak"
CANARY_TOKEN = "CANARY-token-0a1b2c3d4e5f6a7b8c9d"


def test_secrets_go_to_the_keyring_when_one_works(data_dir: Path, memory_keyring: Any) -> None:
    assert save_secrets(data_dir, secretAccessKey=CANARY, sessionToken=CANARY_TOKEN) == "keyring"
    assert not credentials_path(data_dir).exists()
    assert CANARY in memory_keyring.passwords.values()
    loaded = load_secrets(data_dir)
    assert (loaded.secret_access_key, loaded.session_token, loaded.storage) == \
        (CANARY, CANARY_TOKEN, "keyring")
    assert storage_warning(data_dir) is None
    assert CANARY not in repr(loaded)


def test_secrets_fall_back_to_a_private_file_without_keyring(data_dir: Path) -> None:
    assert save_secrets(data_dir, secretAccessKey=CANARY) == "file"
    path = credentials_path(data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_secrets(data_dir)
    assert (loaded.secret_access_key, loaded.session_token, loaded.storage) == (CANARY, None, "file")
    assert storage_warning(data_dir) == FILE_WARNING
    save_secrets(data_dir, secretAccessKey=None)
    assert not path.exists() and load_secrets(data_dir).storage == "none"


def test_moving_to_a_keyring_removes_the_file_copy(data_dir: Path, memory_keyring: Any) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    save_secrets(data_dir, secretAccessKey=CANARY)
    assert credentials_path(data_dir).exists()
    keyring.set_keyring(memory_keyring)
    assert save_secrets(data_dir, secretAccessKey=CANARY) == "keyring"
    assert not credentials_path(data_dir).exists()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHON_KEYRING_BACKEND":
           "keyring.backends.fail.Keyring"}
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_canary_secret_never_leaks(data_dir: Path, s3_server: S3Server, bucket: str,
                                   auth_s3_server: S3Server) -> None:
    """Set the canary through the CLI, then fail and succeed uploads; look everywhere."""
    outputs: list[str] = []
    auth_proxy = FaultProxy(auth_s3_server.host, auth_s3_server.port)
    try:
        writer = auth_s3_server.users["writer"]
        auth_client = auth_s3_server.client()
        auth_client.create_bucket(Bucket="canary-bucket")
        for args in (
            ["config", "set", "bucket=canary-bucket", "region=us-east-1",
             f"endpointUrl={auth_proxy.endpoint_url}", f"accessKeyId={writer.access_key_id}",
             f"secretAccessKey={CANARY}", f"sessionToken={CANARY_TOKEN}", "partSizeBytes=5242880"],
            ["config", "show"],
            ["config", "test"],
        ):
            result = _cli(data_dir, *args)
            outputs += [result.stdout, result.stderr]
        assert "****" in outputs[2]
        session_id = session_with_zip(data_dir, 6 * MIB)
        # The secret and token are wrong for this server: refused, logged with SDK text.
        result = _cli(data_dir, "upload", session_id, "--wait")
        assert result.returncode == 1 and "token is not valid" in result.stderr
        outputs += [result.stdout, result.stderr]
        # Then a server that takes any key: success.
        result = _cli(data_dir, "config", "set", f"endpointUrl={s3_server.endpoint_url}",
                      f"bucket={bucket}")
        outputs += [result.stdout, result.stderr]
        result = _cli(data_dir, "upload", session_id, "--wait")
        outputs += [result.stdout, result.stderr]
        assert result.returncode == 0, result.stderr
    finally:
        auth_proxy.stop()
    for text in outputs:
        assert CANARY not in text and CANARY_TOKEN not in text
    checked = 0
    for path in data_dir.rglob("*"):
        if path.is_file() and path != credentials_path(data_dir) and path.suffix != ".zip":
            content = path.read_bytes()
            assert CANARY.encode() not in content and CANARY_TOKEN.encode() not in content, path
            checked += 1
    log_text = (data_dir / "logs" / "sessionrec.log").read_text()
    assert "InvalidToken" in log_text  # the raw SDK error was logged, scrubbed
    assert checked >= 4
    assert CANARY not in config_path(data_dir).read_text()


def test_config_show_masks_and_set_rejects_bad_values(data_dir: Path) -> None:
    result = _cli(data_dir, "config", "set", "bucket=Bad_Bucket", "region=us-east-1")
    assert result.returncode == 2 and "bucket:" in result.stderr
    result = _cli(data_dir, "config", "set", "nosuch=1")
    assert result.returncode == 2 and "does not name a setting" in result.stderr
    result = _cli(data_dir, "config", "set", "concurrency=many")
    assert result.returncode == 2
    result = _cli(data_dir, "config", "set", "bucket=good-bucket", "region=eu-west-1",
                  "concurrency=8", f"secretAccessKey={CANARY}")
    assert result.returncode == 0, result.stderr
    assert "keyring" in result.stderr  # the file-storage warning
    shown = _cli(data_dir, "config", "show")
    assert '"concurrency": 8' in shown.stdout and '"secretAccessKey": "****"' in shown.stdout
    assert CANARY not in shown.stdout + shown.stderr


def test_demo_server_config_uploads(data_dir: Path) -> None:
    import threading

    from app.upload.s3.demo_server import DemoS3Server
    from app.upload.s3.destination import upload_session
    from app.upload.session.state_store import UploadStateStore

    server = DemoS3Server().start()
    try:
        config = server.write_config(data_dir, UploadConfig(bucket="x-ignored", region="x",
                                                            part_size_bytes=6 * MIB))
        assert config.part_size_bytes == 6 * MIB and config.bucket == server.bucket
        session_id = session_with_zip(data_dir, 1000)
        state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir),
                               lambda _p: None, threading.Event())
        assert state.bytes_uploaded == state.total_bytes
    finally:
        server.stop()


def test_a_keyring_save_moves_the_rest_of_the_file_along(data_dir: Path, memory_keyring: Any) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    save_secrets(data_dir, secretAccessKey=CANARY)  # no keyring yet: the file
    keyring.set_keyring(memory_keyring)
    assert save_secrets(data_dir, sessionToken=CANARY_TOKEN) == "keyring"
    # The key moved with the token: the pair is in one place, the file is gone.
    assert not credentials_path(data_dir).exists()
    loaded = load_secrets(data_dir)
    assert (loaded.secret_access_key, loaded.session_token, loaded.storage) == \
        (CANARY, CANARY_TOKEN, "keyring")


def test_secrets_in_the_file_are_read_without_loading_the_keyring(data_dir: Path) -> None:
    save_secrets(data_dir, secretAccessKey=CANARY)  # no keyring: the file
    probe = ("import sys; from pathlib import Path; from app.upload.s3.credentials import load_secrets; "
             f"s = load_secrets(Path({str(data_dir)!r})); "
             "print(s.storage, s.secret_access_key is not None, 'keyring' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["file", "True", "False"], out.stderr
