"""Fields over 1 MiB (a lost line break or closing quote), found before pandas parses the file: a scan of
the bytes for lines that long, costing nothing where every block of half a MiB holds a line end.
Never imports torch or pandas.
"""

from __future__ import annotations

import numpy as np

from forecast_cli.errors import DataError

MAX_FIELD_CHARS = 1024 * 1024  # no date, number or name is near 1 MiB: a field that long is a broken file


def refuse_huge_fields(data: bytes, delimiter: str, name: str) -> None:
    """Refuse a field over MAX_FIELD_CHARS (a lost line break or quote) before pandas, whose date
    guessing on a 200 MB cell takes a quarter of an hour. Only lines longer than that are split."""
    if len(data) <= MAX_FIELD_CHARS or not _may_hold_long_lines(data):
        return
    starts = _long_line_starts(data)
    for start in starts:
        fields = _line_at(data, int(start)).split(delimiter)
        longest = max(range(len(fields)), key=lambda i: len(fields[i]))
        if len(fields[longest]) <= MAX_FIELD_CHARS:
            continue  # a wide line of ordinary fields
        newline = b"\n" if b"\n" in data else b"\r"
        number = data.count(newline, 0, int(start)) + 1
        header = _line_at(data, 0).lstrip("\ufeff").split(delimiter)
        where = ("the header" if number == 1 else f"column {header[longest].strip().strip(chr(34))[:60]!r}"
                 if longest < len(header) else f"field {longest + 1}, past the header's {len(header)} columns")
        raise DataError(f"{name}: line {number} holds a field of {len(fields[longest]):,} characters in {where}, "
                        "over the 1 MiB (1,048,576 characters) a field may hold; a line break or closing quote "
                        "is probably missing. Fix or remove that line.")


def _may_hold_long_lines(data: bytes) -> bool:
    """Whether some block of MAX_FIELD_CHARS / 2 bytes holds no line end: a line over MAX_FIELD_CHARS
    covers a whole such block. Each search stops at the block's first line end, so this costs nothing."""
    size = MAX_FIELD_CHARS // 2
    return any(data.find(b"\n", start, start + size) < 0 and data.find(b"\r", start, start + size) < 0
               for start in range(0, len(data) - size + 1, size))


def _long_line_starts(data: bytes) -> list[int]:
    """Where the lines over MAX_FIELD_CHARS bytes start, scanning line ends a block at a time (a mask of
    the whole file would cost three times its size)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    found, line_start, block = [], 0, 8 * 1024 * 1024
    for offset in range(0, len(codes), block):
        piece = codes[offset: offset + block]
        ends = np.flatnonzero((piece == 10) | (piece == 13)) + offset  # \n, \r
        if not len(ends):
            continue
        starts = np.concatenate(([line_start], ends[:-1] + 1))
        found.extend(int(start) for start in starts[ends - starts > MAX_FIELD_CHARS])
        line_start = int(ends[-1]) + 1
    if len(codes) - line_start > MAX_FIELD_CHARS:
        found.append(line_start)
    return found


def _line_at(data: bytes, start: int) -> str:
    end = min((i for i in (data.find(b"\n", start), data.find(b"\r", start)) if i >= 0), default=len(data))
    return data[start:end].decode("utf-8", errors="replace")
