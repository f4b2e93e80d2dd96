"""SIGKILL a process that keeps rewriting a JSON file: it must always parse as a whole version."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

WRITER = r"""
import hashlib, sys
from pathlib import Path
from app.jsonfile import write_json_atomic
target = Path(sys.argv[1])
version = 0
print("ready", flush=True)
while True:
    version += 1
    # Sizes vary so a torn write would show as a length or checksum mismatch.
    payload = ("%08d" % version) * (200 + version % 5000)
    write_json_atomic(target, {"version": version, "payload": payload,
                               "sha": hashlib.sha256(payload.encode()).hexdigest()})
"""


def test_sigkill_never_leaves_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    rng = random.Random(20261123)
    repo = Path(__file__).resolve().parents[2]
    last_version = 0
    for _round in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)],
            cwd=repo, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(repo)},
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not target.exists():
            continue  # killed before the first rename: no file is a valid outcome
        document = json.loads(target.read_text())
        assert hashlib.sha256(document["payload"].encode()).hexdigest() == document["sha"]
        assert document["payload"].startswith(f"{document['version']:08d}")
        last_version = max(last_version, document["version"])
    assert last_version > 0, "the writer never completed a write; the test proved nothing"
