"""The upload side of the trust boundary, black-box through `sessionrec` as a user meets it:
damaged zips, a session folder removed mid-upload, hostile ids, out-of-bounds numbers,
secrets on the command line, failed sessions that keep their multipart upload, and the
retry wait. Every command runs as a process with a time limit (a hang fails the test) and
none may print a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from app.upload.session.errors import SESSION_REMOVED_SENTENCE
from tests.factories import make_session
from tests.integration.queue_helpers import (
    REPO_ROOT,
    cli,
    cli_env,
    maybe_state,
    poll,
    run_cli,
    start_cli,
    state,
)
from tests.integration.upload_helpers import corrupt_zip, object_keys, open_uploads
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import S3Server

MIB = 1024 * 1024
T0 = 1_700_000_000_000
CANARY = "CANARY-9d1f0b7e3a5c2e48-never-print-me"


def no_traceback(*outputs: str) -> None:
    for text in outputs:
        assert "Traceback" not in text, text


def sentence_lines(stderr: str) -> list[str]:
    return [line for line in stderr.strip().splitlines() if line.startswith("sessionrec: ")]


@pytest.mark.parametrize("how", ["flip", "truncate", "append"])
def test_upload_wait_of_a_damaged_zip_fails_with_a_sentence_and_writes_no_object(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any, how: str) -> None:
    s3_config()
    sid = make_session(data_dir, T0, zip_bytes=7 * MIB)  # two parts
    exported = session_paths(data_dir, sid).zip.stat().st_size
    corrupt_zip(data_dir, sid, how)
    now = session_paths(data_dir, sid).zip.stat().st_size
    result = run_cli(data_dir, "upload", sid, "--wait", timeout=60)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 1, result.stderr
    why = ("does not have the SHA-256 recorded when it was exported" if how == "flip"
           else f"is {now:,} bytes but was {exported:,} bytes when exported")
    assert sentence_lines(result.stderr)[-1] == (
        f"sessionrec: Session {sid} was not uploaded: The zip of session {sid} {why} "
        "(it was changed or damaged), so it is not uploaded.")
    final = state(data_dir, sid)
    assert final.status == "failed" and final.error_kind == "damaged" and final.retry_count == 0
    client = s3_server.client()
    assert object_keys(client, bucket) == [] and open_uploads(client, bucket) == []
    listed = json.loads(run_cli(data_dir, "list", "--json").stdout)
    assert [(i["uploadStatus"], i["errorKind"]) for i in listed] == [("failed", "damaged")]
    # A queue started later does not try it again (damaged is permanent).
    again = run_cli(data_dir, "queue", "--wait", timeout=60)
    assert again.returncode == 0 and state(data_dir, sid).status == "failed"


@pytest.mark.slow
def test_removing_the_folder_ends_the_owner_a_follower_and_the_upload(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any,
        fault_proxy: FaultProxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 2 * MIB  # ~15 s: still running when the folder goes
    sid = make_session(data_dir, T0, zip_bytes=30 * MIB)
    assert run_cli(data_dir, "upload", sid).returncode == 0  # pending, for the owner below
    owner = start_cli(data_dir, "queue", "--wait")
    follower = None
    try:
        poll(lambda: (s := maybe_state(data_dir, sid)) is not None and s.status == "uploading"
             and s.multipart is not None and s.bytes_uploaded > 0, timeout=60)
        follower = start_cli(data_dir, "upload", sid, "--wait")  # handed over, follows the owner
        time.sleep(1.5)
        assert follower.poll() is None
        shutil.rmtree(session_paths(data_dir, sid).root)
        removed = time.monotonic()
        f_out, f_err = follower.communicate(timeout=30)
        follower_took = time.monotonic() - removed
        o_out, o_err = owner.communicate(timeout=30)
        owner_took = time.monotonic() - removed
    finally:
        for proc in (owner, follower):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    no_traceback(f_out, f_err, o_out, o_err)
    expected = f"sessionrec: Session {sid} was not uploaded: {SESSION_REMOVED_SENTENCE.rstrip('.')}."
    assert follower.returncode == 1 and sentence_lines(f_err)[-1] == expected, f_err
    assert owner.returncode == 1 and sentence_lines(o_err)[-1] == expected, o_err
    print(f"after the folder went: follower ended in {follower_took:.1f} s, "
          f"owner in {owner_took:.1f} s (process exit included)")
    assert owner_took < 10
    fault_proxy.wait_idle()
    client = s3_server.client()
    assert open_uploads(client, bucket) == [] and object_keys(client, bucket) == []
    assert not session_paths(data_dir, sid).root.exists()


@pytest.mark.slow
def test_an_upload_wait_that_owns_the_queue_ends_when_the_folder_goes(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any,
        fault_proxy: FaultProxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 2 * MIB
    sid = make_session(data_dir, T0, zip_bytes=30 * MIB)
    proc = start_cli(data_dir, "upload", sid, "--wait")
    try:
        poll(lambda: (s := maybe_state(data_dir, sid)) is not None and s.multipart is not None
             and s.bytes_uploaded > 0, timeout=60)
        shutil.rmtree(session_paths(data_dir, sid).root)
        removed = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - removed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    no_traceback(out, err)
    assert proc.returncode == 1 and SESSION_REMOVED_SENTENCE.rstrip(".") in sentence_lines(err)[-1]
    assert took < 5, took  # within 2 s of the removal, plus the process winding down
    assert open_uploads(s3_server.client(), bucket) == []


BAD_IDS = ["../../etc/passwd", "a/b", "..", "", "a\x01b", "x" * 10_000, "-", "a b", ".hidden"]


@pytest.mark.parametrize("command", ["upload", "retry", "cancel"])
def test_hostile_session_ids_are_one_sentence_and_exit_2(tmp_path: Path, command: str) -> None:
    data_dir = tmp_path / "never-created"
    for bad in BAD_IDS:
        args = [command, "--", bad] if bad.startswith("-") else [command, bad]
        result = subprocess.run(cli(data_dir, *args), cwd=REPO_ROOT, env=cli_env(), text=True,
                                capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        no_traceback(result.stdout, result.stderr)
        assert result.returncode == 2, (bad[:20], result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sessionrec: "), lines
        assert "\x01" not in lines[0] and len(lines[0]) < 200
    assert not data_dir.exists()  # checked before anything touched the data folder


@pytest.mark.parametrize(("assignment", "words"), [
    (["backoffBaseSec=1e10", "backoffCapSec=1e10"], "The first retry delay must be between 0.1"),
    (["backoffBaseSec=1e308"], "The first retry delay must be between 0.1 and 60 seconds."),
    (["backoffCapSec=inf"], "The longest retry delay must be between 1 and 3600 seconds."),
    (["backoffCapSec=nan"], "The longest retry delay must be between 1 and 3600 seconds."),
    (["backoffBaseSec=0.05"], "The first retry delay must be between 0.1"),
    (["maxRetries=101"], "between 0 and 100"),
    (["maxRetries=1e400"], "maxRetries needs a whole number."),
    (["concurrency=99999999999999999999"], "between 1 and 16"),
    (["partSizeBytes=1"], "5 MiB"),
    (["maxBandwidthBytesPerSec=1e30"], "The bandwidth limit must be between"),
    (["readTimeoutSec=-1"], "The read timeout must be between 0.1 and 3600 seconds."),
    (["connectTimeoutSec=inf"], "The connect timeout must be between 0.1 and 600 seconds."),
    (["keepUploaded=-1"], "between 0 and"),
])
def test_config_set_refuses_numbers_out_of_bounds(data_dir: Path, assignment: list[str],
                                                  words: str) -> None:
    result = run_cli(data_dir, "config", "set", *assignment, timeout=60)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert not (data_dir / "upload-config.json").exists()


@pytest.mark.parametrize("argv", [
    ["--screenshot-every", "inf"], ["--screenshot-every", "nan"], ["--screenshot-every", "-1"],
    ["--duration", "inf"], ["--duration", "nan"], ["--duration", "1e9"], ["--fps", "1000"],
    ["--max-width", "99999999"], ["--monitor", "99999999999"],
])
def test_record_refuses_numbers_out_of_bounds(data_dir: Path, argv: list[str]) -> None:
    args = ["record", *argv] if "--duration" in argv else ["record", "--duration", "5", *argv]
    result = run_cli(data_dir, *args, timeout=60)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 2
    assert len(sentence_lines(result.stderr)) == 1, result.stderr
    assert list((data_dir / "sessions").iterdir()) == []  # nothing was recorded


def test_numbers_out_of_bounds_on_disk_are_clamped_and_the_queue_still_ends(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any) -> None:
    s3_config()
    config_file = data_dir / "upload-config.json"
    raw = json.loads(config_file.read_text())
    # Edited by hand: absurd backoff, a huge integer where a float is expected.
    raw.update(backoffBaseSec=10 ** 400, backoffCapSec=1e308, maxRetries=10 ** 30)
    config_file.write_text(json.dumps(raw))
    sid = make_session(data_dir, T0, status="pending")
    state_file = session_paths(data_dir, sid).upload_state
    on_disk = json.loads(state_file.read_text())
    on_disk.update(nextAttemptAt=10 ** 30, retryCount=10 ** 20)
    state_file.write_text(json.dumps(on_disk))
    shown = run_cli(data_dir, "config", "show", timeout=60)
    no_traceback(shown.stdout, shown.stderr)
    values = json.loads(shown.stdout)
    assert (values["backoffBaseSec"], values["backoffCapSec"], values["maxRetries"]) == (60, 3600, 100)
    listed = run_cli(data_dir, "list", timeout=60)
    no_traceback(listed.stdout, listed.stderr)
    assert listed.returncode == 0 and "pending (retry in" in listed.stdout
    # A sane cap: the far-future retry is due within about a second, then it uploads.
    assert run_cli(data_dir, "config", "set", "backoffBaseSec=0.1", "backoffCapSec=1").returncode == 0
    started = time.monotonic()
    result = run_cli(data_dir, "queue", "--wait", timeout=60)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert state(data_dir, sid).status == "done"
    assert time.monotonic() - started < 30
    log = (data_dir / "logs" / "sessionrec.log").read_text()
    assert "backoffCapSec = 1e+308 is outside its bounds; using 3600" in log
    assert "nextAttemptAt" in log or "next_attempt_at" in log


def test_upload_wait_says_why_and_when_while_waiting_for_the_next_try(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any,
        fault_proxy: FaultProxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, backoff_base_sec=1.0, backoff_cap_sec=1.0)
    fault_proxy.inject(Fault.service_unavailable(), times=1, only="PutObject")
    sid = make_session(data_dir, T0)
    result = run_cli(data_dir, "upload", sid, "--wait", timeout=60)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    waiting = [line for line in result.stdout.splitlines() if line.startswith(f"{sid}: pending - ")]
    assert len(waiting) == 1, result.stdout
    line = waiting[0]
    assert "temporary problem (HTTP 503)" in line and " Next try at " in line and "(in 1s)" in line
    assert f"{sid}: done" in result.stdout.splitlines()


def test_a_failed_session_keeps_its_upload_until_cancel(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any,
        fault_proxy: FaultProxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url)
    # The parts are sent, then completing is refused for good: the multipart upload stays.
    fault_proxy.inject(Fault.error(403, "AccessDenied", "Access Denied"), times=None,
                       only="CompleteMultipartUpload")
    sid = make_session(data_dir, T0, zip_bytes=7 * MIB)
    failed = run_cli(data_dir, "upload", sid, "--wait", timeout=60)
    assert failed.returncode == 1
    client = s3_server.client()
    assert len(open_uploads(client, bucket)) == 1
    listed = run_cli(data_dir, "list", timeout=60)
    assert "The unfinished upload is kept for retry; `sessionrec cancel " in listed.stdout
    [item] = json.loads(run_cli(data_dir, "list", "--json").stdout)
    assert item["uploadStatus"] == "failed" and item["multipartUploadOpen"] is True
    fault_proxy.clear()
    cancel = run_cli(data_dir, "cancel", sid, timeout=60)
    no_traceback(cancel.stdout, cancel.stderr)
    assert cancel.returncode == 0 and f"{sid}: cancelled" in cancel.stdout, cancel.stderr
    after = state(data_dir, sid)
    assert after.status == "not_uploaded" and after.multipart is None and after.last_error is None
    assert open_uploads(client, bucket) == []
    refused = run_cli(data_dir, "cancel", sid, timeout=60)
    assert refused.returncode == 2 and "is not queued or failed (it is not uploaded)" in refused.stderr


def test_config_test_tells_about_the_lifecycle_rule(
        data_dir: Path, s3_server: S3Server, bucket: str, s3_config: Any) -> None:
    s3_config(key_prefix="recordings/")
    without = run_cli(data_dir, "config", "test", timeout=60)
    assert without.returncode == 0, without.stderr
    assert "has no lifecycle rule that removes unfinished multipart uploads" in without.stdout
    client = s3_server.client()
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "other-prefix", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    ]})
    elsewhere = run_cli(data_dir, "config", "test", timeout=60)
    assert "has no lifecycle rule" in elsewhere.stdout  # a rule for other keys does not count
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "abort-incomplete-multipart", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ]})
    with_rule = run_cli(data_dir, "config", "test", timeout=60)
    no_traceback(with_rule.stdout, with_rule.stderr)
    assert ("The bucket removes unfinished multipart uploads 7 days after they began "
            "(lifecycle rule ('abort-incomplete-multipart')).") in with_rule.stdout


def _config_set(data_dir: Path, *args: str, stdin: str | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(data_dir, "config", "set", *args), cwd=REPO_ROOT, env=cli_env(),
                          text=True, capture_output=True, timeout=60, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def test_a_secret_is_read_from_standard_input_and_never_echoed(data_dir: Path) -> None:
    piped = _config_set(data_dir, "secretAccessKey", stdin=CANARY + "\n")
    assert piped.returncode == 0, piped.stderr
    assert CANARY not in piped.stdout + piped.stderr and "process list" not in piped.stderr
    assert json.loads((data_dir / "credentials.json").read_text()) == {"secretAccessKey": CANARY}
    empty = _config_set(data_dir, "sessionToken", stdin="")
    assert empty.returncode == 2 and "No value was given for sessionToken" in empty.stderr
    # The old way still works, with a warning about the process list.
    argv = _config_set(data_dir, f"sessionToken={CANARY}-token")
    assert argv.returncode == 0 and "visible in the process list" in argv.stderr
    assert CANARY not in argv.stdout + argv.stderr
    shown = run_cli(data_dir, "config", "show")
    assert CANARY not in shown.stdout + shown.stderr and '"sessionToken": "****"' in shown.stdout


@pytest.mark.parametrize("typo", [
    [f"secretAccessKey:{CANARY}"], ["secretAccessKey", CANARY], [f"--secretAccessKey={CANARY}"],
    [f"secretAcessKey={CANARY}"], [f"{CANARY}"], ["bucket=ok-bucket", f"secret={CANARY}"],
    ["--secret", CANARY],
])
def test_no_error_ever_echoes_a_secret(data_dir: Path, typo: list[str]) -> None:
    result = _config_set(data_dir, *typo)
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == 2, result.stderr
    assert CANARY not in result.stdout + result.stderr
    assert "CANARY" not in result.stdout + result.stderr  # not even a part of it
    assert not (data_dir / "credentials.json").exists()
    log = data_dir / "logs" / "sessionrec.log"
    assert not log.exists() or CANARY not in log.read_text()


def test_a_secret_typed_at_a_terminal_prompt_is_not_echoed(data_dir: Path) -> None:
    import os
    import pty
    import select

    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as in a real shell
        os.chdir(REPO_ROOT)
        os.execve(sys.executable, cli(data_dir, "config", "set", "secretAccessKey"), cli_env())
    seen = b""
    deadline = time.monotonic() + 60
    sent = False
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            seen += chunk
            if not sent and b"secretAccessKey: " in seen:
                os.write(master, CANARY.encode() + b"\r")
                sent = True
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, 9)
        raise AssertionError(f"the prompt never finished: {seen!r}")
    os.close(master)
    assert sent, seen
    assert status is not None and os.waitstatus_to_exitcode(status) == 0, seen
    assert CANARY.encode() not in seen  # echo was off while typing
    assert b"Settings saved." in seen
    assert json.loads((data_dir / "credentials.json").read_text()) == {"secretAccessKey": CANARY}
