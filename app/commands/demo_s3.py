"""`sessionrec demo-s3`: a local S3-compatible server for trying the app without an account."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("demo-s3", "the local test bucket arrives with issue 4")
