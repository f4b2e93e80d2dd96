"""`sessionrec upload ID... [--wait]`."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_ids", nargs="+", metavar="ID")
    parser.add_argument("--wait", action="store_true", help="run the queue until these finish")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("upload", "uploading arrives with issue 4")
