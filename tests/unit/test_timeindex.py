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


def _year_month(years: int = 13, header: str = "Month") -> pd.DataFrame:
    """Shampoo-sales style: `1-01` ... `13-12`, the year counted from 1 without a century."""
    stamps = [f"{year}-{month:02d}" for year in range(1, years + 1) for month in range(1, 13)]
    return pd.DataFrame({header: stamps, "sales": range(len(stamps))})


@pytest.mark.parametrize("header", ["Month", "period", "label"])
def test_year_month_without_century_is_a_monthly_index_from_2001(header):
    from forecast_cli.data.timeindex import infer_frequency

    raw = _year_month(header=header)
    assert detect_time_columns(raw, None, "shampoo.csv") == (header,)
    index = parse_time(raw, (header,), "shampoo.csv")
    assert index[0] == pd.Timestamp("2001-01-01") and index[12] == pd.Timestamp("2002-01-01")
    assert index[-1] == pd.Timestamp("2013-12-01")
    assert infer_frequency(index) == "MS"


def test_a_bad_month_among_year_month_values_is_named():
    raw = _year_month(3)
    raw.loc[28, "Month"] = "3-13"
    with pytest.raises(DataError) as raised:
        parse_time(raw, ("Month",), "shampoo.csv")
    assert str(raised.value) == (
        "shampoo.csv: time column 'Month' line 30 holds '3-13', which does not match the format of line 2 "
        "('1-01'); use one date format throughout, or name the right column with --time-col.")


def test_time_col_none_means_rows_in_file_order():
    assert detect_time_columns(_dated(), ("none",), "dated.csv") == ()
    assert detect_time_columns(_dated(), ("None",), "dated.csv") == ()
    named_none = _dated().rename(columns={"date": "none"})
    assert detect_time_columns(named_none, ("none",), "odd.csv") == ("none",)  # a column of that name wins


def test_date_and_time_in_two_columns_join_into_timestamps_and_a_blank_one_is_named():
    raw = pd.DataFrame({"date": ["2024-01-01", "2024-01-01", None], "time": ["10:00", "11:00", "12:00"]})
    parsed = parse_time(raw.iloc[:2], ("date", "time"), "data.csv")
    assert list(parsed) == [pd.Timestamp("2024-01-01 10:00"), pd.Timestamp("2024-01-01 11:00")]
    with pytest.raises(DataError, match="line 4"):
        parse_time(raw, ("date", "time"), "data.csv")
