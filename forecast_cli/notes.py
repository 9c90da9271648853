"""What the library tells the user besides warnings: `Info` lines (the file a command read, a slow
read's size and time). Both go through the API's `warn` callback; nothing here prints.
Imports nothing of the package, so every layer may use it.
"""

from __future__ import annotations

from typing import Callable

SLOW_READ_SECONDS = 1.0  # a read (parse and frame) slower than this gets a line saying what was read


class Info(str):
    """A note that is not a warning about the data: the CLI prints it without `warning:`; the API's
    default `warn` (Python's warnings) drops it."""


def note_slow_read(name: str, rows: int, columns: int, seconds: float, warn: Callable[[str], None]) -> None:
    """One line after a read that took SLOW_READ_SECONDS or more, so a cron log shows where time went."""
    if seconds >= SLOW_READ_SECONDS:
        warn(Info(f"read {name}: {rows:,} rows, {columns} columns in {seconds:.1f}s"))
