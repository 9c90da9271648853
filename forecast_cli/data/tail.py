"""The last rows of a CSV file without reading the rest: what `predict` needs (the model's window and
a margin), read back from the end of the file and parsed with its header the way io.py parses a whole
file, with the delimiter sniffed from the file's head.

`read_tail` answers None wherever the tail cannot be told apart safely, and the caller reads the whole
file: stdin or anything but a regular file, a file under TAIL_MIN_BYTES, UTF-16 or non-ASCII text
(the encoding is the whole file's to decide), a header that is not the first line or holds a quoted
line break, a tail line with an odd number of quotes (a quoted line break), line ends other than \\n,
or a tail that would reach back to the header. Never imports torch.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from forecast_cli.data.frame import Frame, FrameSpec
from forecast_cli.data.io import SNIFF_BYTES, Table, parse_bytes, refuse_binary, sniff_delimiter, strip_trailing_junk
from forecast_cli.data.labels import rebuild_task_frame
from forecast_cli.data.timeindex import parse_time
from forecast_cli.errors import DataError

TAIL_MIN_BYTES = 4 * 1024 * 1024  # smaller files are read whole: that costs less than a second look
HEAD_ROWS = 20  # first data rows parsed too, so the caller can check the file runs forward in time
HASH_BLOCK = 1024 * 1024
TAIL_MARGIN = 64  # rows read beyond those needed, at first: a few blank or dropped rows at the tail's start


@dataclass
class Tail:
    """The header and last rows of a file (`table`, partial) and its first rows (`first`), both parsed."""

    table: Table
    first: pd.DataFrame


def read_tail(source, rows: int) -> Tail | None:
    """The header, first rows and last `rows` (or more) non-blank lines of the CSV file `source`; None where
    only a whole read is safe (see the module's doc). A tail that does not parse is None too, so the whole
    read reports the problem with its true line number."""
    if not isinstance(source, (str, Path)) or str(source) == "-":
        return None
    name = str(source)
    try:
        info = os.stat(source)
        if not stat.S_ISREG(info.st_mode) or info.st_size < TAIL_MIN_BYTES:
            return None
        with open(source, "rb") as handle:
            head = handle.read(SNIFF_BYTES + 1)
            refuse_binary(head, name)  # the same refusal, and before anything else, as a whole read
            found = _header(head)
            if found is None:
                return None
            header, delimiter = found
            block = _last_lines(handle, info.st_size, len(header), rows, head)
    except OSError:
        return None
    if block is None:
        return None
    first = head[len(header): head.rfind(b"\n", 0, len(head) - 1) + 1].split(b"\n")[:HEAD_ROWS]
    try:
        table = Table(parse_bytes(header + block, name, delimiter), name, lambda: _file_digest(source), partial=True)
        first_rows = parse_bytes(header + b"\n".join(first) + b"\n", name, delimiter) if len(first) >= 2 else None
    except DataError:
        return None
    if first_rows is None or not head.isascii():
        return None
    return Tail(table, first_rows)


def _header(head: bytes) -> tuple[bytes, str] | None:
    """The header line (with its line end) and the delimiter sniffed from the head, when the header is the
    first line, ASCII, and holds no quoted line break; else None."""
    end = head.find(b"\n")
    header = head[: end + 1]
    if end < 0 or not header.strip(b"\xef\xbb\xbf \t\r\n") or header.count(b'"') % 2 or b"\r" in header[:-2]:
        return None
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    if not header.lstrip(b"\xef\xbb\xbf").isascii():
        return None
    return header, sniff_delimiter(text, "")


def _last_lines(handle, size: int, header_end: int, rows: int, head: bytes) -> bytes | None:
    """The whole lines at the end of the file holding at least `rows` non-blank lines, read back in growing
    steps; None when that would take the file back to its header, or the lines are not plainly separable."""
    lines_in_head = max(head.count(b"\n"), 1)
    want = int((rows + 2) * len(head) / lines_in_head * 1.2) + 4096  # bytes, from the head's line length
    while True:
        start = size - want
        if start <= header_end:  # the whole file: read it whole instead
            return None
        handle.seek(start)
        block = handle.read(size - start)
        block = strip_trailing_junk(block[block.find(b"\n") + 1:])  # from the first whole line
        lines = [line for line in block.split(b"\n") if line.strip()]
        if len(lines) >= rows + 1:
            break
        want *= 4
    if not block.isascii() or b"\r" in block.replace(b"\r\n", b"") or any(line.count(b'"') % 2 for line in lines):
        return None
    return block


def _file_digest(path) -> str:
    """sha256 of the whole file, read a block at a time: asked only when the path is not the recorded one."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def tail_frame(source, rows: int, spec: FrameSpec, classification, horizon: int, dtypes: dict[str, str],
               enough: Callable[[Frame], bool] | None = None) -> tuple[Table, Frame] | None:
    """The model's frame rebuilt from the file's tail: at least `rows` rows (or, with `enough`, as many as
    it accepts; the tail grows fourfold until it does), whose values are those a whole read gives (blanks
    interpolated from the same neighbours: the frame starts at a complete row); None where only a whole
    read is safe. Beyond read_tail's conditions: the columns read with the dtypes fit saw (`dtypes`, from
    the manifest), the first and last rows in time order, no row dropped at the end for a blank target
    (its note names a line number), and no error (the whole read reports it, with its line)."""
    if not dtypes:
        return None
    enough = enough or (lambda frame: len(frame.data) >= rows)
    wanted = rows + max(rows // 8, TAIL_MARGIN)
    while True:
        found = read_tail(source, wanted)
        if found is None:
            return None
        raw = found.table.raw
        if any(column not in raw.columns or str(raw[column].dtype) != dtype for column, dtype in dtypes.items()):
            return None
        try:
            if spec.time_cols and not _runs_forward(found, spec.time_cols):
                return None
            frame = rebuild_task_frame(found.table, spec, classification, horizon)
        except DataError:
            return None
        if frame.dropped_trailing:
            return None
        if enough(frame):
            frame.notes = [note for note in frame.notes if "leading row(s)" not in note]  # where the tail began
            return found.table, frame
        wanted *= 4


def _runs_forward(tail: Tail, time_cols: tuple[str, ...]) -> bool:
    """The first rows and the tail each in time order, the tail after the first rows (a file sorted
    newest first, or shuffled, is read whole and sorted there)."""
    first = parse_time(tail.first, time_cols, tail.table.name)
    last = parse_time(tail.table.raw, time_cols, tail.table.name)
    return bool(first.is_monotonic_increasing and last.is_monotonic_increasing and first[-1] <= last[0])
