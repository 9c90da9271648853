"""Read a CSV path or `-` (stdin) into a raw DataFrame: delimiter, encoding and BOM sniffed; or take
a pandas DataFrame handed to the Python API as it is.

Owns file-level problems only (missing, binary, empty, a header with one row or none, fields over 1 MiB);
columns and rows belong to frame.py.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from forecast_cli.config import ASEASONAL_WINDOW, DataConfig
from forecast_cli.data import streamed
from forecast_cli.data.longlines import refuse_huge_fields
from forecast_cli.data.windows import minimum_rows
from forecast_cli.data.parquet import is_parquet, read_parquet
from forecast_cli.errors import DataError

SNIFF_BYTES = 64 * 1024
HEADER_BYTES = streamed.HEAD_BYTES  # the head decoded for the header checks: a header of 100,000 columns fits
DELIMITERS = ",;\t|"
UTF16_BOMS = streamed.UTF16_BOMS


def read_bytes(source: str) -> tuple[bytes, str]:
    """Return the raw bytes of `source` and a name for messages; `-` reads stdin."""
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError("no CSV given: pass a file path, or pipe one in and use '-'.")
        head = sys.stdin.buffer.read(SNIFF_BYTES + 1)  # one more: whether the head is the whole input
        refuse_binary(head, "<stdin>")  # before reading the rest: `fit - < /dev/zero` would never end
        return head + sys.stdin.buffer.read(), "<stdin>"
    path = Path(source)
    try:
        if not path.exists():
            raise DataError(f"{source}: file not found; check the path.")
        if path.is_dir():
            raise DataError(f"{source}: is a directory, not a CSV file.")
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES + 1)  # one more: whether the head is the whole file
            refuse_binary(head, source)  # before reading the rest: a 2 GB binary file, /dev/zero
            if len(head) <= SNIFF_BYTES:
                return head, source
            if handle.seekable():  # read once whole: head + rest would hold the file twice
                handle.seek(0)
                return handle.read(), source
            return head + handle.read(), source
    except OSError as exc:
        raise DataError(f"{source}: cannot be read ({exc.strerror}); check its permissions.") from exc


def strip_trailing_junk(data: bytes) -> bytes:
    """Drop what some writers leave after the last line: a DOS end-of-file mark (^Z, 0x1A) and NUL
    padding (a preallocated or crashed write). Otherwise they read as a bad last row, or the NULs as
    a binary file. Line ends are kept; other bytes are data."""
    if data[:2] in UTF16_BOMS:  # two bytes a character: NULs pair with the text's own bytes
        trimmed = data.rstrip(b"\x00")
        trimmed += b"\x00" * (len(trimmed) % 2)
        text = trimmed.decode("utf-16", errors="ignore")
        kept = text.rstrip("\x00\x1a\r\n")
        return data if kept == text.rstrip("\r\n") else (kept + "\n").encode("utf-16")
    end = _end_without(data, streamed.JUNK)
    if end == _end_without(data, b"\r\n"):
        return data  # no junk: the bytes as they are, not a copy
    return data[:end] + b"\n"


def _end_without(data: bytes, junk: bytes) -> int:
    """len(data.rstrip(junk)), looking at the end only (rstrip copies the whole file)."""
    step = 4096
    while step < len(data):
        kept = len(data[-step:].rstrip(junk))
        if kept:
            return len(data) - step + kept
        step *= 16  # all junk so far (NUL padding): look further back
    return len(data.rstrip(junk))


def decode(data: bytes, name: str) -> str:
    """Decode as UTF-8 (BOM dropped), UTF-16 with a BOM (Excel's "Unicode text"), else Latin-1;
    refuse binary files."""
    data, encoding = utf8_or_latin1(data, name)
    return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)


def utf8_or_latin1(data: bytes, name: str) -> tuple[bytes, str]:
    """The bytes pandas parses and their encoding: UTF-8 (ASCII included, checked without decoding
    when ASCII), Latin-1 when not UTF-8, and UTF-16 with a BOM re-encoded as UTF-8; binary refused."""
    if data[:2] in UTF16_BOMS:
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}: starts like UTF-16 text but cannot be decoded as it "
                            f"(byte {exc.start}); save it as UTF-8 CSV.") from exc
    refuse_binary(data, name)
    if data.isascii():
        return data, "utf-8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data, "latin-1"
    return data, "utf-8"


def refuse_binary(data: bytes, name: str) -> None:
    """A NUL byte in the first SNIFF_BYTES of text that is not UTF-16 means a binary file; NUL padding
    and a ^Z after the last line (strip_trailing_junk) do not count."""
    head = data[:SNIFF_BYTES]
    if len(data) <= SNIFF_BYTES:  # the whole file: its end is known, so its trailing junk can be set aside
        head = strip_trailing_junk(head)
    if data[:2] not in UTF16_BOMS and b"\x00" in head:
        raise DataError(f"{name}: looks like a binary file, not a CSV text file; "
                        "export the data as CSV (comma, semicolon, tab or | separated).")


def sniff_delimiter(text: str, name: str) -> str:
    """The delimiter of the header and first rows; one column alone is accepted as a comma file."""
    sample = "\n".join(text[:SNIFF_BYTES].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        if any(d in header for d in DELIMITERS):
            counts = {d: header.count(d) for d in DELIMITERS}
            return max(counts, key=counts.get)
        return ","


@dataclass
class Table:
    """A CSV as read: the raw frame, a name for messages, and a fingerprint of the bytes."""

    raw: pd.DataFrame
    name: str
    digest: str | Callable[[], str]  # sha256 of the bytes, or how to get it when first asked (a tail read)
    rows: int = -1  # rows read: len(raw), kept when the rows are let go (`release_rows`)
    partial: bool = False  # only the file's last rows were read (tail.py)

    def __post_init__(self):
        if self.rows < 0:
            self.rows = len(self.raw)

    @property
    def sha256(self) -> str:
        if callable(self.digest):
            self.digest = self.digest()
        return self.digest

    def release_rows(self) -> None:
        """Let the raw rows go once the frame is built (the header stays): they are the largest thing held."""
        self.raw = pd.DataFrame(columns=self.raw.columns)  # not a slice: that would keep every row alive


DATAFRAME_NAME = "<DataFrame>"


def read_source(source) -> Table:
    """A path or `-` read as CSV (a Parquet file, by its magic bytes, as Parquet), or a pandas DataFrame
    taken as the raw table."""
    if isinstance(source, pd.DataFrame):
        return table_from_frame(source)
    if is_parquet(str(source)):
        raw, digest = read_parquet(str(source))
        return Table(raw, str(source), digest)
    return read_table(str(source))


def table_from_frame(frame: pd.DataFrame) -> Table:
    """A DataFrame as if it had been read from a CSV: a time index becomes a column, names become text,
    and the fingerprint hashes the values, index and column names."""
    if isinstance(frame.index, pd.DatetimeIndex):
        raw = frame.rename_axis(frame.index.name or "timestamp").reset_index()
    else:
        raw = frame.reset_index(drop=True)
    if raw.empty:
        raise DataError(f"{DATAFRAME_NAME}: has no rows of data.")
    raw.columns = [str(column).strip() for column in raw.columns]
    digest = hashlib.sha256(pd.util.hash_pandas_object(raw, index=False).to_numpy().tobytes())
    digest.update("\x1f".join(raw.columns).encode())
    return Table(raw, DATAFRAME_NAME, digest.hexdigest())


def read_table(source: str) -> Table:
    """Read `source` (a path or `-`) and fingerprint it (sha256 of the bytes as read): a large plain file
    streamed into read_csv (streamed.py), anything else, or a file that stream finds unusual, read whole."""
    table = _read_streamed(source)
    if table is not None:
        return table
    data, name = read_bytes(source)
    return Table(parse_bytes(data, name), name, hashlib.sha256(data).hexdigest())


def _read_streamed(source: str) -> Table | None:
    """parse_bytes' checks on the head, then read_csv over a CheckedReader; None whenever the file needs
    the whole-bytes path (its messages are the ones a user sees)."""
    plain = streamed.open_plain(source)
    if plain is None:
        return None
    with contextlib.closing(plain):
        head_bytes = plain.head[plain.start:]
        refuse_binary(plain.head[: SNIFF_BYTES + 1], source)
        head = head_bytes.decode("utf-8", errors="ignore")
        if not head.strip() or head_bytes.count(b"\n", 0, 4096) + head_bytes.count(b"\r", 0, 4096) <= 4:
            return None  # few lines in the head: the whole-bytes checks count them
        _refuse_other_formats(head.lstrip(), source)
        delimiter = sniff_delimiter(head, source)
        _refuse_duplicate_names(head, delimiter, source)
        reader = streamed.CheckedReader(plain)
        try:
            frame = pd.read_csv(io.BufferedReader(reader, streamed.BLOCK), sep=delimiter, encoding="utf-8")
        except (streamed.Fallback, pd.errors.ParserError, csv.Error, ValueError):
            return None  # a check failed, or the file does not parse: read whole, its error reported
        if reader.fallback or _starts_with_space(frame):
            return None
        _refuse_too_few_rows(head_bytes, source, len(frame))
        frame.columns = [str(column).strip() for column in frame.columns]
        return Table(frame, source, reader.digest())


def parse_bytes(data: bytes, name: str, delimiter: str | None = None) -> pd.DataFrame:
    """Checked bytes -> read_csv. The checks look at the head or scan the bytes; the file is never held as text
    (a str and a StringIO of it cost five times the file). `delimiter`: as sniffed from the whole file's head
    (a tail read), else sniffed here."""
    data, encoding = utf8_or_latin1(strip_trailing_junk(data), name)
    data = data[3:] if encoding == "utf-8" and data[:3] == b"\xef\xbb\xbf" else data
    head = data[:HEADER_BYTES].decode(encoding, errors="ignore")  # a cut multi-byte character is dropped
    if not head.strip():
        raise DataError(f"{name}: the file is empty; it needs a header line and rows of data.")
    _refuse_other_formats(head.lstrip(), name)
    delimiter = delimiter or sniff_delimiter(head, name)
    refuse_huge_fields(data, delimiter, name)
    _refuse_too_few_rows(data, name)
    _refuse_duplicate_names(head, delimiter, name)
    frame = _read_csv(data, delimiter, encoding, name)
    _refuse_too_few_rows(data, name, len(frame))
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def _read_csv(data: bytes, delimiter: str, encoding: str, name: str) -> pd.DataFrame:
    """read_csv with spaces after a delimiter skipped (`a, "b, c"` quotes its field). Skipping costs
    read_csv a third more, and numbers parse the same without it, so the file is read without it
    first, and again with it only when a text value or a name starts with a space."""
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=delimiter, encoding=encoding)
        if not _starts_with_space(frame):
            return frame
    except (pd.errors.ParserError, csv.Error, ValueError):
        pass  # read again below, as the user's file is meant: its error is the one reported
    frame = None  # let the first reading go before the second is made
    try:
        return pd.read_csv(io.BytesIO(data), sep=delimiter, skipinitialspace=True, encoding=encoding)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "malformed CSV"
        raise DataError(f"{name}: cannot be parsed as CSV ({reason}); every line needs as many "
                        f"{_delimiter_name(delimiter)}-separated fields as the header, and text holding "
                        "the separator must be in double quotes.") from exc


def _starts_with_space(frame: pd.DataFrame) -> bool:
    """Whether a column name or a text value starts with a space: what skipping spaces would change
    (numeric columns read the same either way; a space turns a numeric column into text)."""
    if any(str(column).startswith(" ") for column in frame.columns):
        return True
    text = [column for column, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    return any(frame[column].str.startswith(" ", na=False).any() for column in text)


def _refuse_duplicate_names(text: str, delimiter: str, name: str) -> None:
    """Two columns of one name: pandas would rename the second `y.1` silently, so refuse it, naming both places.
    The header is read with the csv module, as pandas reads it (quotes, leading spaces, blank lines before)."""
    reader = csv.reader(_lines(text), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next((row for row in reader if row), [])
    except csv.Error:  # a header field past the csv module's 128 KiB limit: pandas will say what is wrong
        return
    seen: dict[str, int] = {}
    for position, column in enumerate(column.strip() for column in header):
        if column in seen:
            raise DataError(f"{name}: the header (line {reader.line_num}) names column {column!r} twice, as fields "
                            f"{seen[column] + 1} and {position + 1}; rename one of them.")
        if column:  # blank names are numbered by pandas (Unnamed: 1), so they may repeat
            seen[column] = position


def _lines(text: str):
    """The lines of `text` with their ends, one at a time, as io.StringIO splits them (only the header's
    lines are asked for, out of a head of megabytes)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _refuse_too_few_rows(text: bytes, name: str, rows: int | None = None) -> None:
    """A header alone, or a header and one row, cannot be a series: say so at once with the rows needed.
    Before parsing, `rows` is None and the non-blank lines are counted (when there are at most two)."""
    if rows is None:
        if text.count(b"\n", 0, 4096) + text.count(b"\r", 0, 4096) > 4 or text.count(b"\n") + text.count(b"\r") > 4:
            return
        rows = len([line for line in text.splitlines() if line.strip()]) - 1
    if rows <= 0:
        raise DataError(f"{name}: has a header but no rows of data.")
    if rows == 1:
        defaults = DataConfig(target="")
        window = defaults.window or ASEASONAL_WINDOW
        needed = minimum_rows(defaults.val_frac, defaults.test_frac, window, defaults.horizon)
        raise DataError(f"{name}: has a header and only one row of data; fit needs at least {needed} rows with "
                        f"--window {window} and --horizon {defaults.horizon} (never fewer than 2), "
                        "predict at least the model's --window. Add rows.")


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def _refuse_other_formats(text: str, name: str) -> None:
    """JSON, or a web page saved in place of the data (a common failure of download scripts)."""
    if text.startswith("<"):
        raise DataError(f"{name}: looks like HTML or XML, not CSV (a web page saved instead of the data?); "
                        "check where the file came from.")
    if text.startswith("{") or text.startswith("[{"):
        raise DataError(f"{name}: looks like JSON, not CSV; export the data as CSV with a header line.")
