"""`sessionrec demo-s3`: a local S3-compatible server for trying the app without an account."""

from __future__ import annotations

import argparse
import signal
import threading

from app.commands.arguments import bounded_int
from app.commands.context import EXIT_FAILED, EXIT_OK, CommandContext, disk_sentence, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=bounded_int("--port", 0, 65535), default=0,
                        help="port on 127.0.0.1 (0 = any free port)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.logs import setup_logging
    from app.upload.config import load_config
    from app.upload.s3.demo_server import DemoS3Server

    setup_logging(ctx.data_dir)
    server = DemoS3Server(port=args.port)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        return fail(f"the local S3 server could not start: {exc}.", EXIT_FAILED)
    existing = load_config(ctx.data_dir).value
    try:
        server.write_config(ctx.data_dir, existing)
    except OSError as exc:
        server.stop()
        return fail(disk_sentence(exc, "the settings could not be saved"), EXIT_FAILED)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Local S3 server running at {server.endpoint_url} with bucket '{server.bucket}'.")
    print("The settings now point at it; uploads stay in memory until this stops.")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("Local S3 server stopped.")
    return EXIT_OK
