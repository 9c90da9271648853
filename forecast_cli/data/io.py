"""Read a CSV path or `-` (stdin) into a raw DataFrame: delimiter, encoding and BOM sniffed; or take
a pandas DataFrame handed to the Python API as it is.

Owns file-level problems only (missing, binary, empty); columns and rows belong to frame.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast_cli.errors import DataError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_bytes(source: str) -> tuple[bytes, str]:
    """Return the raw bytes of `source` and a name for messages; `-` reads stdin."""
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError("no CSV given: pass a file path, or pipe one in and use '-'.")
        head = sys.stdin.buffer.read(SNIFF_BYTES)
        refuse_binary(head, "<stdin>")  # before reading the rest: `fit - < /dev/zero` would never end
        return head + sys.stdin.buffer.read(), "<stdin>"
    path = Path(source)
    try:
        if not path.exists():
            raise DataError(f"{source}: file not found; check the path.")
        if path.is_dir():
            raise DataError(f"{source}: is a directory, not a CSV file.")
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
            refuse_binary(head, source)  # before reading the rest: a 2 GB binary file, /dev/zero
            return head + handle.read(), source
    except OSError as exc:
        raise DataError(f"{source}: cannot be read ({exc.strerror}); check its permissions.") from exc


def decode(data: bytes, name: str) -> str:
    """Decode as UTF-8 (BOM dropped), UTF-16 with a BOM (Excel's "Unicode text"), else Latin-1;
    refuse binary files."""
    if data[:2] in UTF16_BOMS:
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}: starts like UTF-16 text but cannot be decoded as it "
                            f"(byte {exc.start}); save it as UTF-8 CSV.") from exc
    refuse_binary(data, name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def refuse_binary(data: bytes, name: str) -> None:
    """A NUL byte in the first SNIFF_BYTES of text that is not UTF-16 means a binary file."""
    if data[:2] not in UTF16_BOMS and b"\x00" in data[:SNIFF_BYTES]:
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
    sha256: str


DATAFRAME_NAME = "<DataFrame>"


def read_source(source) -> Table:
    """A path or `-` read as CSV, or a pandas DataFrame taken as the raw table."""
    if isinstance(source, pd.DataFrame):
        return table_from_frame(source)
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
    """Read `source` (a path or `-`) and fingerprint it (sha256 of the bytes as read)."""
    data, name = read_bytes(source)
    return Table(_parse(data, name), name, hashlib.sha256(data).hexdigest())


def _parse(data: bytes, name: str) -> pd.DataFrame:
    text = decode(data, name)
    if not text.strip():
        raise DataError(f"{name}: the file is empty; it needs a header line and rows of data.")
    _refuse_other_formats(text.lstrip(), name)
    delimiter = sniff_delimiter(text, name)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "malformed CSV"
        raise DataError(f"{name}: cannot be parsed as CSV ({reason}); every line needs as many "
                        f"{_delimiter_name(delimiter)}-separated fields as the header, and text holding "
                        "the separator must be in double quotes.") from exc
    if frame.empty:
        raise DataError(f"{name}: has a header but no rows of data.")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def _refuse_other_formats(text: str, name: str) -> None:
    """JSON, or a web page saved in place of the data (a common failure of download scripts)."""
    if text.startswith("<"):
        raise DataError(f"{name}: looks like HTML or XML, not CSV (a web page saved instead of the data?); "
                        "check where the file came from.")
    if text.startswith("{") or text.startswith("[{"):
        raise DataError(f"{name}: looks like JSON, not CSV; export the data as CSV with a header line.")
