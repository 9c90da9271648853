"""Parquet input (the optional `parquet` extra, pyarrow): large tables need not be CSV. A file is
Parquet when it starts with the format's magic bytes, whatever its name; it is read whole, its
columns taken as the raw table (names as text), and fingerprinted by its bytes like a CSV."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd

from forecast_cli.errors import DataError

MAGIC = b"PAR1"


def is_parquet(source: str) -> bool:
    """Whether the file at `source` (not stdin) starts with Parquet's magic bytes."""
    if source == "-":
        return False
    try:
        with open(Path(source), "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:  # missing, a folder, unreadable: the CSV reader says which, in its words
        return False


def read_parquet(source: str) -> tuple[pd.DataFrame, str]:
    """The table and the sha256 of the file's bytes; one line naming the extra when pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401 (pandas needs it; import it here to say so in one line)
    except ImportError:
        raise DataError(f"{source}: is a Parquet file; reading it needs pyarrow: pip install "
                        "'forecast-cli[parquet]', or export it as CSV.") from None
    data = Path(source).read_bytes()
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{source}: cannot be read as Parquet ({detail}).") from None
    if frame.empty:
        raise DataError(f"{source}: has no rows of data.")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.reset_index(drop=True), hashlib.sha256(data).hexdigest()
