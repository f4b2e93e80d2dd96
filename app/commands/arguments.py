"""Command-line input checks shared by every command: session ids, bounded numbers, and an
argument parser whose error messages never repeat a secret.

Everything a user types is untrusted: an id is checked against the session id rule before
any command touches the data folder (so `upload ../../etc/passwd` is one sentence, exit 2),
and every number is finite and inside documented bounds.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from app.sessions import is_valid_session_id

# Arguments that may carry a secret are never repeated in an error message.
_SECRET_HINT = re.compile(r"secret|token|passw|credential", re.IGNORECASE)
SHOWN_CHARS = 40


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` safe to print in a sentence: control characters as '?', cut to `limit`."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return clean + ("…" if len(text) > limit else "")


def session_id_problem(raw: str) -> str | None:
    """One sentence when `raw` is not a session id, else None."""
    if is_valid_session_id(raw):
        return None
    if not raw:
        return "An empty session id was given; session ids look like 20240601-120000-000-a1b2c3."
    why = ("is too long (session ids have at most 64 characters)" if len(raw) > 64
           else "is not a session id (letters, digits, '.', '_' and '-', starting with a "
                "letter or digit)")
    return f"'{shown(raw)}' {why}."


def session_ids_problem(args: argparse.Namespace) -> str | None:
    """The first bad id among a command's `session_id` / `session_ids` arguments."""
    values: list[str] = []
    single = getattr(args, "session_id", None)
    if isinstance(single, str):
        values.append(single)
    many = getattr(args, "session_ids", None)
    if isinstance(many, list):
        values.extend(v for v in many if isinstance(v, str))
    for value in values:
        problem = session_id_problem(value)
        if problem:
            return problem
    return None


def bounded_float(name: str, low: float, high: float, *, allow_zero: bool = False
                  ) -> Callable[[str], float]:
    """An argparse `type`: a finite number in [low, high] (or exactly 0 when allowed)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} needs a number of seconds") from None
        if allow_zero and value == 0:
            return 0.0
        if not math.isfinite(value) or not low <= value <= high:
            zero = "0 (off) or " if allow_zero else ""
            raise argparse.ArgumentTypeError(f"{name} must be {zero}between {low:g} and {high:g}")
        return value
    return parse


def bounded_int(name: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse `type`: a whole number in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip()) if len(text) <= 32 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number from {low} to {high}")
        return value
    return parse


def hide_secrets(message: str) -> str:
    """An argparse error message without anything that may be (next to) a secret."""
    if not _SECRET_HINT.search(message):
        return message
    head, sep, _tail = message.partition("unrecognized arguments:")
    if sep:
        # A secret may sit in any of them (`--secret VALUE`): name none.
        return head + "unrecognized arguments (not shown: they may hold a secret)"
    return " ".join("<hidden>" if _SECRET_HINT.search(word) else word for word in message.split(" "))


class SafeArgumentParser(argparse.ArgumentParser):
    """argparse, except that its error messages never repeat an argument that may hold a
    secret (`--secretAccessKey=...` typed as an option would otherwise be echoed)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {hide_secrets(message)}\n")
