"""`sessionrec link ID [--expires DURATION]`: print a share link to an uploaded session's zip.

The link is a presigned GET URL signed here with the configured credentials (nothing is sent
to the store); anyone with it can download the zip until it expires (default and at most 7
days). The URL goes to stdout only, never to the log; notes about its lifetime go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID")
    parser.add_argument("--expires", default="7d", metavar="DURATION",
                        help="how long the link works: 7d, 12h, 30m, 3600 (seconds); at most 7d "
                             "(default 7d)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.logs import setup_logging
    from app.upload.s3.share_link import LinkError, make_share_link, parse_duration

    setup_logging(ctx.data_dir)
    try:
        seconds = parse_duration(args.expires)
        link = make_share_link(ctx.data_dir, args.session_id, seconds)
    except LinkError as exc:
        return fail(str(exc), EXIT_USAGE if exc.usage else EXIT_FAILED)
    for note in link.notes():
        print(f"sessionrec: {note}", file=sys.stderr)
    print(link.url, flush=True)
    return EXIT_OK
