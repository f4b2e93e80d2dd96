"""`sessionrec [gui]`: the desktop app."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(command_name="gui")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("gui", "the desktop app arrives with issue 6")
