"""The CLI's progress output: a redrawn bar on a terminal, throttled plain lines otherwise."""

from __future__ import annotations

import io

from app.commands.queue_support import ProgressPrinter

MIB = 1024 * 1024


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_bar_redraws_in_place_and_ends_before_a_status_line() -> None:
    out = Terminal()
    printer = ProgressPrinter(out)
    printer.progress("s1", 25 * MIB, 100 * MIB, 5 * MIB, 15.0)
    printer.progress("s1", 50 * MIB, 100 * MIB, 5 * MIB, 10.0)
    printer.status("s1", "done")
    text = out.getvalue()
    first, second = text.split("\r")[1:3]
    assert first.startswith("[" + "#" * 6 + "." * 18 + "]") and " 25.0%" in first
    assert second.startswith("[" + "#" * 12 + "." * 12 + "]") and " 50.0%" in second
    assert "5.0 MiB/s" in second and "ETA 10s" in second
    assert "\x1b[K" in second  # clears what a longer previous line left behind
    assert text.endswith("\ns1: done\n")  # the bar's line is closed before the status line
    assert text.count("\n") == 2


def test_plain_lines_at_most_once_a_second_but_always_the_last() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for done in range(1, 11):
        printer.progress("s1", done * MIB, 10 * MIB, MIB, 10.0 - done)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 2, lines  # the first, then (within the same second) only the final one
    assert "10.0%" in lines[0] and "100.0%" in lines[1]
    assert "ETA ?" not in lines[0]


def test_unknown_eta_is_a_question_mark() -> None:
    out = io.StringIO()
    ProgressPrinter(out).progress("s2", 0, 10 * MIB, 0.0, -1.0)
    assert out.getvalue().rstrip().endswith("ETA ?")
