"""`sessionrec retry ID`."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("retry", "the upload queue arrives with issue 5")
