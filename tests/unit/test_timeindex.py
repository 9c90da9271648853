"""timeindex.py: which column holds time, read from a sample of its values, and how it parses."""

import pandas as pd
import pytest

from forecast_cli.data.timeindex import detect_time_columns, parse_time
from forecast_cli.errors import DataError


def _dated(rows: int = 40) -> pd.DataFrame:
    stamps = pd.date_range("2021-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": list(stamps), "value": range(rows)})


def test_a_time_value_too_long_for_a_date_is_named_before_any_date_guessing():
    raw = _dated()
    raw.loc[30, "date"] = "2021-01-31" * 50_000  # 500,000 characters, under io's 1 MiB bound
    assert detect_time_columns(raw, None, "long.csv") == ("date",)  # decided from a sample
    with pytest.raises(DataError) as raised:
        parse_time(raw, ("date",), "long.csv")
    assert str(raised.value) == (
        "long.csv: time column 'date' line 32 holds 500,000 characters ('2021-01-312021-01-31'...), too long for a "
        "date (at most 100); fix that value, or name the right column with --time-col.")


def test_an_unreadable_date_is_blamed_on_its_own_line_not_on_a_valid_one():
    """Line 14 (2021-01-13) fails only under the day-first reading tried last; the bad value is on line 41."""
    raw = _dated(60)
    raw.loc[39, "date"] = "someday"
    with pytest.raises(DataError) as raised:
        parse_time(raw, ("date",), "late.csv")
    assert str(raised.value) == (
        "late.csv: time column 'date' line 41 holds 'someday', which does not match the format of line 2 "
        "('2021-01-01'); use one date format throughout, or name the right column with --time-col.")
