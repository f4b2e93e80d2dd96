"""What every command receives, and the exit codes of DESIGN §7."""

from __future__ import annotations

import errno
import sys
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class CommandContext:
    data_dir: Path


def fail(sentence: str, code: int = EXIT_USAGE) -> int:
    """Print one sentence on stderr and return the exit code."""
    print(f"sessionrec: {sentence}", file=sys.stderr)
    return code


def disk_sentence(exc: OSError, what: str) -> str:
    """One sentence for a failed write: 'The disk is full: <what>.' or '<What>: <reason>.'"""
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: {what}."
    return f"{what[:1].upper()}{what[1:]}: {exc.strerror or type(exc).__name__}."
