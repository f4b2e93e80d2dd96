"""A real S3 server for tests: moto's ThreadedMotoServer over HTTP on 127.0.0.1, port 0.

Two flavours:
- `S3Server()` runs in this process (fast to start; accepts any credentials, like the
  demo server);
- `S3Server(auth=True)` runs in a child process with moto's IAM checks switched on, so a
  wrong access key, a wrong secret or a missing permission are rejected for real. Auth is a
  process-wide moto setting, which is why it cannot share the process with the open server.
  The child creates two IAM users: `writer` (s3:*) and `reader` (everything but writes).

`python -m tests.s3support.server --auth` is that child: it prints one JSON line with the
endpoint and the users' keys, then serves until its stdin closes (so it dies with the test).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
# Any non-empty key works against the open server; these look real enough for botocore.
OPEN_ACCESS_KEY = "AKIAOPENSERVERTEST01"
OPEN_SECRET_KEY = "open-server-secret-not-checked-0000000000"


@dataclass(frozen=True)
class IamUser:
    access_key_id: str
    secret_access_key: str


@dataclass
class S3Server:
    auth: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, IamUser] = field(default_factory=dict)
    _moto: Any = None
    _child: subprocess.Popen[str] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> S3Server:
        if self.auth:
            self._start_child()
        else:
            self._start_in_process()
        return self

    def _start_in_process(self) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO on stderr; tests want quiet output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._moto.start()
        self.host, self.port = self._moto.get_host_and_port()

    def _start_child(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "tests.s3support.server", "--auth"],
            cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            raise RuntimeError("the auth-checking S3 server did not start")
        info = json.loads(line)
        self.host, self.port = info["host"], info["port"]
        self.users = {name: IamUser(**user) for name, user in info["users"].items()}

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._child is not None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            self._child = None

    def client(self, access_key_id: str | None = None, secret_access_key: str | None = None,
               endpoint_url: str | None = None) -> S3Client:
        """A plain boto3 client for test set-up and checks (not the engine's client)."""
        import boto3
        from botocore.config import Config

        if access_key_id is None:
            user = self.users.get("writer")
            access_key_id = user.access_key_id if user else OPEN_ACCESS_KEY
            secret_access_key = user.secret_access_key if user else OPEN_SECRET_KEY
        return boto3.client(
            "s3", endpoint_url=endpoint_url or self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        )

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_ALLOW_ALL = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
_READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:Head*"], "Resource": "*"},
]}


def _serve_with_auth() -> None:
    # Must be set before moto reads its settings: every request is authenticated.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.iam.models import iam_backends
    from moto.server import ThreadedMotoServer

    iam = iam_backends[ACCOUNT_ID]["global"]
    users = {}
    for name, policy in (("writer", _ALLOW_ALL), ("reader", _READ_ONLY)):
        iam.create_user(region_name="us-east-1", user_name=name, path="/", tags=[])
        key = iam.create_access_key(name)
        iam.put_user_policy(name, "policy", json.dumps(policy))
        users[name] = {"access_key_id": key.access_key_id,
                       "secret_access_key": key.secret_access_key}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(json.dumps({"host": host, "port": port, "users": users}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin or dies
    server.stop()


if __name__ == "__main__":
    if "--auth" in sys.argv:
        _serve_with_auth()
    else:
        with S3Server() as srv:
            print(srv.endpoint_url, flush=True)
            sys.stdin.read()
