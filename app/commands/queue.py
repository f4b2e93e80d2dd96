"""`sessionrec queue --wait`: restore the queue from disk and run it."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="run until nothing is pending or waiting to retry")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("queue", "the upload queue arrives with issue 5")
