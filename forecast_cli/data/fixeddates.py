"""Fixed-width numeric timestamps (`2015-01-01 00:00`, `20150101`, `01/02/2015`) read as a byte matrix:
one digit check, one separator check and integer arithmetic for millions of values, where
`pandas.to_datetime(format=...)` converts every value to a Python string and parses it one by one
(0.7 CPU-s per 3M rows with pyarrow strings, against about 0.15 here).

Strict by construction: only a column whose every value has the format's exact width, digits where
the format has numbers, its very separators and valid fields (month 1-12, a day the month has,
23:59:59 at most) is read here; anything else returns None and timeindex.py's general parsing
decides, with its messages. So a value read here is one `to_datetime` reads the same. Never imports torch.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FIELD_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
TOKEN = re.compile(r"%(.)|([^%])")
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
UPPER = {"m": 12, "d": 31, "H": 23, "M": 59, "S": 59}  # m <= 12 and d <= 31 make each date one key
YEARS = (pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1)  # the range timeindex.py reports on itself
ZERO = ord("0")
BLOCK_ROWS = 1 << 16  # rows transposed at a time: (width, 65,536) bytes stay in cache, no copy of the column


def read_fixed_width(text: pd.Series, fmt: str | None, unit: str = "s") -> pd.DatetimeIndex | None:
    """`text` parsed with `fmt` (numeric fields only: %Y %m %d [%H %M %S], literal separators) when every
    value is exactly in that form, as timestamps of `unit` ('s', 'ms', 'us' or 'ns'); None when the format
    or any value is not (the caller parses it)."""
    layout = _layout(fmt)
    if layout is None or not len(text):
        return None
    fields, separators, width = layout
    chunks = _arrow_chunks(text, width)
    if chunks is None:
        return None
    counts = np.empty(len(text), dtype=np.int64)  # seconds since 1970, written a block of rows at a time
    row = 0
    for chunk in chunks:
        for first in range(0, len(chunk), BLOCK_ROWS):
            block = chunk[first:first + BLOCK_ROWS]
            if not _read_block(np.ascontiguousarray(block.T), fields, separators, counts[row:row + len(block)]):
                return None
            row += len(block)
    counts *= pd.Timedelta(1, unit="s").value // pd.Timedelta(1, unit=unit).value  # in place: seconds -> unit
    return pd.DatetimeIndex(counts.view(f"datetime64[{unit}]"), copy=False)


def _read_block(places: np.ndarray, fields: dict[str, tuple[int, int]], separators: list[tuple[int, str]],
                seconds: np.ndarray) -> bool:
    """One block's (width, rows) bytes -> its seconds since 1970, written into `seconds`; False at a
    wrong separator, a non-digit or a field out of its range (the general parser then reports it)."""
    for position, char in separators:
        if (places[position] != ord(char)).any():
            return False  # another separator than the format's
    numbers = {}
    for name, (start, size) in fields.items():
        digits = places[start:start + size] - np.uint8(ZERO)  # a non-digit wraps past 9
        if (digits > 9).any():
            return False
        numbers[name] = _number(digits)
    return _seconds_since_epoch(numbers, seconds)


def _number(digits: np.ndarray) -> np.ndarray:
    """(size, T) digits -> (T,) int32 numbers, most significant first."""
    value = digits[0].astype(np.int32)
    for place in digits[1:]:
        value *= 10
        value += place
    return value


def _layout(fmt: str | None) -> tuple[dict[str, tuple[int, int]], list[tuple[int, str]], int] | None:
    """Field -> (start, width), literal (position, character) pairs and the total width; None for a
    format with anything else (%f, %z, names of months, 12-hour clocks) or without a year, month and day."""
    if not fmt:
        return None
    fields, separators, position = {}, [], 0
    tokens = list(TOKEN.finditer(fmt))
    if sum(len(token.group(0)) for token in tokens) != len(fmt):  # a lone trailing %
        return None
    for token in tokens:
        field, literal = token.groups()
        if literal:
            if literal.isdigit():
                return None
            separators.append((position, literal))
            position += 1
        elif field in FIELD_WIDTHS and field not in fields:
            fields[field] = (position, FIELD_WIDTHS[field])
            position += FIELD_WIDTHS[field]
        else:
            return None
    return (fields, separators, position) if {"Y", "m", "d"} <= set(fields) else None


def _arrow_chunks(text: pd.Series, width: int) -> list[np.ndarray] | None:
    """(rows, width) uint8 per chunk: the bytes of a pyarrow-backed column of values `width` bytes long,
    viewed in place (the offsets show the widths); None for any other column. (A non-ASCII byte is neither
    a digit nor a separator: the caller's checks refuse it.) Python strings are not read here:
    encoding them costs more than to_datetime's own parsing of them (0.5 against 0.3 CPU-s per 3M)."""
    if getattr(text.dtype, "storage", None) != "pyarrow":  # Python strings also offer __arrow_array__
        return None
    import pyarrow as pa  # installed: pandas made these strings with it

    chunks = pa.chunked_array(text.array.__arrow_array__()).chunks
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return None
    views = []
    for chunk in chunks:
        if chunk.null_count:
            return None
        if not len(chunk):
            continue
        _, offsets, data = chunk.buffers()
        kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        ends = np.frombuffer(offsets, dtype=kind)[chunk.offset: chunk.offset + len(chunk) + 1]
        if not (np.diff(ends) == width).all():
            return None
        view = np.frombuffer(data, dtype=np.uint8, count=len(chunk) * width, offset=int(ends[0]))
        views.append(view.reshape(len(chunk), width))
    return views


def _seconds_since_epoch(numbers: dict[str, np.ndarray], seconds: np.ndarray) -> bool:
    """(rows,) int64 seconds since 1970 from the fields, written into `seconds`; False when a field is out
    of its range (a 13th month, 30 February, hour 24, second 60) or the year beyond what timestamps hold.
    Dates are checked and counted once per run of equal dates (1,440 rows of a minute series)."""
    if any(numbers[name].max() > top for name, top in UPPER.items() if name in numbers):
        return False
    key = numbers["Y"] * 13  # one number per date, in place: (Y * 13 + m) * 32 + d
    key += numbers["m"]
    key *= 32
    key += numbers["d"]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    year, month, day = (numbers[name][starts].astype(np.int64) for name in "Ymd")
    if year.min() < YEARS[0] or year.max() > YEARS[1] or month.min() < 1 or day.min() < 1:
        return False
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if (day > DAYS_IN_MONTH[month - 1] + (leap & (month == 2))).any():
        return False
    seconds[:] = np.repeat(_days_from_civil(year, month, day) * 86_400, np.diff(np.append(starts, len(key))))
    for name, size in (("H", 3600), ("M", 60), ("S", 1)):
        if name in numbers:
            numbers[name] *= size  # in place: the block's own arrays, of no further use
            seconds += numbers[name]
    return True


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates, in integer arithmetic (H. Hinnant's
    days_from_civil: the year taken to start in March, so February's length only ends it)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468
