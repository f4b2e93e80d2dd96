"""`sessionrec record`: record headless, export the zip, print the session id."""

from __future__ import annotations

import argparse

from app.commands.context import CommandContext, not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, required=True, metavar="S",
                        help="seconds to record")
    parser.add_argument("--fps", type=int, default=10, metavar="N", help="frames per second (1-30)")
    parser.add_argument("--screenshot-every", type=float, default=5.0, metavar="S",
                        help="a screenshot every S seconds (0 = off)")
    parser.add_argument("--mask-keys", action="store_true", help="write typed characters as '*'")
    parser.add_argument("--monitor", default="1", metavar="N|all",
                        help="monitor number, or 'all' for the whole virtual desktop")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return not_available("record", "the recorder arrives with issue 3")
