"""`sessionrec config show | set KEY=VALUE... | test`."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    sub.add_parser("show", help="print the settings (secrets masked)")
    set_parser = sub.add_parser("set", help="change settings, e.g. bucket=my-bucket region=eu-west-1")
    set_parser.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    sub.add_parser("test", help="check the bucket can be reached with these settings")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("config", "S3 settings arrive with issue 4")
