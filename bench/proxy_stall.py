"""How long a client waits on the FaultProxy's stall before its read timeout fires, against
the timeout it was given and the stall's length (the figure tests/integration/test_s3support.py
used to assert): moto in this process, the proxy in front, HeadBucket stalled.

    python bench/proxy_stall.py [--timeout 1.0] [--stall 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import botocore.exceptions
from botocore.config import Config

from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--stall", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = S3Server().start()
    server.client().create_bucket(Bucket="stall")
    proxy = FaultProxy(server.host, server.port)
    client = boto3.client(
        "s3", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
        aws_access_key_id=OPEN_ACCESS_KEY, aws_secret_access_key=OPEN_SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                      read_timeout=args.timeout, connect_timeout=args.timeout))
    waits = []
    try:
        for _ in range(args.rounds):
            proxy.inject(Fault.stall(args.stall), only="HeadBucket")
            started = time.monotonic()
            try:
                client.head_bucket(Bucket="stall")
                outcome = "answered"
            except botocore.exceptions.ReadTimeoutError:
                outcome = "read timeout"
            waits.append(time.monotonic() - started)
            proxy.clear()
            print(f"  {outcome} after {waits[-1]:.2f} s")
    finally:
        proxy.stop()
        server.stop()
    print(f"median wait {statistics.median(waits):.2f} s against a read timeout of {args.timeout:.2f} s "
          f"and a stall of {args.stall:.0f} s ({statistics.median(waits) / args.timeout:.2f}x the timeout)")


if __name__ == "__main__":
    main()
