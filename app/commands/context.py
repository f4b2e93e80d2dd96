"""What every command receives, and the exit codes of DESIGN §7."""

from __future__ import annotations

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
