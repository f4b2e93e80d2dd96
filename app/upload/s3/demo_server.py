"""A local S3-compatible server (moto) on 127.0.0.1 plus a config pointing at it.

Used by `sessionrec demo-s3` and, later, by the settings panel's "use a local test
bucket" button, which can start and stop it in-process. moto keeps objects in memory:
everything uploaded to it is gone when it stops.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.upload.config import UploadConfig, save_config
from app.upload.s3.credentials import save_secrets

DEMO_BUCKET = "sessionrec-demo"
DEMO_REGION = "us-east-1"
DEMO_ACCESS_KEY = "SRDEMOSESSIONREC0001"


@dataclass
class DemoS3Server:
    host: str = "127.0.0.1"
    port: int = 0
    bucket: str = DEMO_BUCKET
    _server: Any = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoS3Server:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise RuntimeError("the local test server needs the 'demo' extra "
                               "(pip install 'sessionrec[demo]')") from exc
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=DEMO_REGION,
                              aws_access_key_id=DEMO_ACCESS_KEY, aws_secret_access_key="demo-secret")
        client.create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def write_config(self, data_dir: Path, base: UploadConfig | None = None) -> UploadConfig:
        """Point the data dir's settings at this server (keeps part size etc. from `base`)."""
        values: dict[str, Any] = dict(base.__dict__) if base else {}
        values.update(bucket=self.bucket, region=DEMO_REGION, endpoint_url=self.endpoint_url,
                      access_key_id=DEMO_ACCESS_KEY, profile=None)
        if values.get("auto_upload") is None:  # this server works: it just made the bucket
            values["auto_upload"] = True
        config = UploadConfig(**values)
        save_config(data_dir, config)
        # moto accepts any secret; a random one keeps the file from looking like a real key.
        save_secrets(data_dir, secretAccessKey="demo-" + secrets.token_hex(16), sessionToken=None)
        return config
