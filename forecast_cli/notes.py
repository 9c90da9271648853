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


def note_read(name: str, rows: int, columns: int, seconds: float, warn: Callable[[str], None],
              recorded_in: object = None) -> None:
    """After a read: one line naming the file when it was read unasked (`recorded_in`: the model directory
    that recorded it), and saying its size and time when it took SLOW_READ_SECONDS or more, so a cron
    log shows where time went. Said after the read, so a bad file's error stays the only line."""
    slow = seconds >= SLOW_READ_SECONDS
    if not (slow or recorded_in is not None):
        return
    origin = f", the training data recorded in {recorded_in}" if recorded_in is not None else ""
    size = f": {rows:,} rows, {columns} columns in {seconds:.1f}s" if slow else ""
    warn(Info(f"read {name}{origin}{size}"))


def note_series_read(name: str, rows: int, series: int, seconds: float, warn: Callable[[str], None]) -> None:
    """After reading a many-series file: always one line with its rows, series and time (a long read of
    thousands of series should never be silent)."""
    warn(Info(f"read {name}: {rows:,} rows, {series:,} series in {seconds:.1f}s"))


def without_name(note: str, name: str) -> str:
    """A data note without its leading `<file>: `, so notes about the same file compare equal
    whatever path named it (the manifest records them this way)."""
    prefix = f"{name}: "
    return note[len(prefix):] if note.startswith(prefix) else note


def new_notes(notes: list[str], name: str, said_at_fit: list[str]) -> list[str]:
    """The notes about re-read training data that fit did not already say (a new gap count, rows
    dropped anew); the same text again is left out."""
    said = set(said_at_fit)
    return [note for note in notes if without_name(note, name) not in said]
