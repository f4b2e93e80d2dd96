"""`sessionrec rename ID TITLE [--note TEXT]`: set a session's title (and note).

An empty TITLE or TEXT removes it. Refused (exit 1) while the session is being recorded or
exported; bad input (an unknown session, a title too long) is exit 2.
"""

from __future__ import annotations

import argparse

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id", metavar="ID")
    parser.add_argument("title", metavar="TITLE", nargs="?", default=None,
                        help='the new title (at most 200 characters; "" removes it)')
    parser.add_argument("--note", metavar="TEXT", default=None,
                        help='a free-text note ("" removes it)')


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.session_texts import (
        KEEP,
        SessionBusy,
        TextProblem,
        clean_note,
        clean_title,
        set_session_texts,
    )
    from app.sessions import InvalidSessionId

    if args.title is None and args.note is None:
        return fail("Give a title, a --note, or both.", EXIT_USAGE)
    try:
        title = KEEP if args.title is None else clean_title(args.title)
        note = KEEP if args.note is None else clean_note(args.note)
        meta = set_session_texts(ctx.data_dir, args.session_id, title=title, note=note)
    except (InvalidSessionId, TextProblem) as exc:
        return fail(str(exc), EXIT_USAGE)
    except SessionBusy as exc:
        return fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        return fail(f"The title of session {args.session_id} could not be saved "
                    f"({exc.strerror or exc}).", EXIT_FAILED)
    shown = f"“{meta.title}”" if meta.title else "no title"
    print(f"{meta.session_id}: {shown}" + (", with a note" if meta.note else ""))
    return EXIT_OK
