"""The `sessionrec` command line (DESIGN §7). The desktop app is the default command.

Each subcommand lives in `app/commands/<name>.py` with `add_arguments(parser)`
and `run(args, ctx) -> int`; heavy imports (Qt, boto3, PyAV) happen inside
`run`, so `sessionrec list` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from app import __version__
from app.commands.arguments import SafeArgumentParser, session_ids_problem
from app.commands.context import EXIT_USAGE, CommandContext, fail
from app.paths import ensure_data_dir, resolve_data_dir

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("app.commands.gui", "start the desktop app (the default)"),
    "record": ("app.commands.record", "record headless, export the zip, print the session id"),
    "list": ("app.commands.list_cmd",
             "finish interrupted recordings (writes them), then list sessions with their upload status"),
    "config": ("app.commands.config", "show, set or test the S3 settings"),
    "upload": ("app.commands.upload", "queue sessions for upload; --wait runs until they finish"),
    "retry": ("app.commands.retry", "retry a failed upload"),
    "cancel": ("app.commands.cancel", "cancel a pending or running upload"),
    "rename": ("app.commands.rename", "set a session's title (and note)"),
    "queue": ("app.commands.queue", "restore the upload queue from disk and run it"),
    "view": ("app.commands.view", "watch a session: its video with the action timeline"),
    "link": ("app.commands.link", "print a share link (presigned URL) to an uploaded session"),
    "demo-s3": ("app.commands.demo_s3", "start a local S3-compatible server and point config at it"),
    "install-desktop-entry": ("app.commands.install_desktop_entry",
                              "add sessionrec to the applications menu (--autostart: start at login)"),
}


def _load(module_name: str) -> ModuleType:
    return importlib.import_module(module_name)


def build_parser() -> argparse.ArgumentParser:
    parser = SafeArgumentParser(
        prog="sessionrec",
        description="Record screen sessions and upload them to S3.",
    )
    parser.add_argument("--version", action="version", version=f"sessionrec {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where sessions and settings live (default: $SESSIONREC_DATA_DIR, "
        "else the platform's user-data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        _load(module_name).add_arguments(command_parser)
    return parser

# Commands that only name the data folder (in a desktop entry) and must not create it.
NO_DATA_DIR = frozenset({"install-desktop-entry"})


# Commands a script or a fleet runs once per session: they end with `os._exit` (see exit_now).
EXIT_AT_ONCE = frozenset({"upload", "queue", "retry", "cancel", "list"})


def entry_point() -> NoReturn:
    """The `sessionrec` program (and `python -m app`)."""
    argv = sys.argv[1:]
    code = main(argv)
    if _command_of(argv) in EXIT_AT_ONCE:
        exit_now(code)
    sys.exit(code)


def exit_now(code: int) -> NoReturn:
    """Flush the output and the log, then end the process without Python's teardown.

    Tearing down the interpreter (garbage collection, freeing botocore's models and every
    module) took 0.3-0.4 s after a 1 MiB upload had finished, more than the upload. Nothing
    is lost by skipping it: every state file was written atomically (and fsynced) when it
    changed, the queue was shut down, and the log is flushed here. A part worker stuck in a
    dead connection after a quit is dropped instead of holding the exit until its timeout.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        logging.shutdown()
        os._exit(code)


def _command_of(argv: Sequence[str]) -> str | None:
    args = list(argv)
    while args:
        word = args.pop(0)
        if word == "--data-dir":
            if args:
                args.pop(0)
        elif word.startswith("--data-dir="):
            continue
        elif word.startswith("-"):
            return None
        else:
            return word
    return None


def _make_private(data_dir: Path) -> None:
    """Tighten a data folder left 0755/0644 by an older build; one log line says what changed."""
    from app.logs import setup_logging
    from app.privacy import tighten_data_dir

    setup_logging(data_dir)
    note = tighten_data_dir(data_dir)
    if note:
        logging.getLogger("app.privacy").info("%s", note)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    # Ids are checked before anything touches the data folder.
    problem = session_ids_problem(args)
    if problem:
        return fail(problem, EXIT_USAGE)
    data_dir = resolve_data_dir(args.data_dir)
    if command not in NO_DATA_DIR:
        try:
            ensure_data_dir(data_dir)
        except OSError as exc:
            print(f"sessionrec: cannot use the data folder {data_dir}: {exc.strerror or exc}.",
                  file=sys.stderr)
            return EXIT_USAGE
        _make_private(data_dir)
    ctx = CommandContext(data_dir=data_dir)
    if args.command is None:
        # `sessionrec` alone starts the window; give the gui command its defaults.
        gui_parser = SafeArgumentParser(prog="sessionrec gui")
        _load(COMMANDS["gui"][0]).add_arguments(gui_parser)
        args = gui_parser.parse_args([], namespace=args)
    result: int = _load(COMMANDS[command][0]).run(args, ctx)
    return result
