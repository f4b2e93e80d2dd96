"""The window's local test bucket, in a child process: `python -m app.app_shell.demo_child DATA_DIR`.

moto is pure Python; run inside the app it would hold the GIL for whole requests (completing a
500 MiB multipart upload concatenates every part) and the window would stutter. In its own
process it costs the window nothing. It writes the settings pointing at itself, prints one JSON
line ({"endpointUrl", "bucket"}), and serves until its stdin closes, so it ends with the app
even when the app is killed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from app.logs import setup_logging
    from app.upload.config import load_config
    from app.upload.s3.demo_server import DemoS3Server

    data_dir = Path(argv[0])
    setup_logging(data_dir)
    server = DemoS3Server().start()
    try:
        server.write_config(data_dir, load_config(data_dir).value)
        print(json.dumps({"endpointUrl": server.endpoint_url, "bucket": server.bucket}), flush=True)
        sys.stdin.read()  # returns when the parent closes the pipe or dies
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
