"""Frequencies in words (for `info` and notes) and the timestamps a regular series lacks."""

import pandas as pd
import pytest

from forecast_cli.data.timeindex import frequency_words, missing_timestamps


@pytest.mark.parametrize("freq, words", [("D", "daily (D)"), ("h", "hourly (h)"), ("MS", "monthly (MS)"),
                                         ("B", "business days (B)"), ("W-SUN", "weekly (W-SUN)"),
                                         ("15min", "every 15 minutes (15min)"), ("2D", "every 2 days (2D)"),
                                         ("QS-JAN", "quarterly (QS-JAN)"), (None, "irregular")])
def test_frequency_words(freq, words):
    assert frequency_words(freq) == words


def test_missing_days_are_counted_from_the_first_row_to_the_last():
    index = pd.date_range("2021-01-01", periods=40, freq="D").delete([5, 6, 20])
    missing = missing_timestamps(index, "D")
    assert list(missing) == [pd.Timestamp("2021-01-06"), pd.Timestamp("2021-01-07"), pd.Timestamp("2021-01-21")]


def test_missing_months_are_counted_on_month_starts():
    index = pd.date_range("2000-01-01", periods=36, freq="MS").delete([12])
    assert list(missing_timestamps(index, "MS")) == [pd.Timestamp("2001-01-01")]


def test_business_days_are_not_counted_since_holidays_are_expected():
    index = pd.bdate_range("2021-01-04", periods=60).delete([10])
    assert len(missing_timestamps(index, "B")) == 0


def test_one_far_outlier_date_builds_no_huge_grid():
    index = pd.DatetimeIndex(["1900-01-01"]).append(pd.date_range("2021-01-01", periods=50, freq="h"))
    assert len(missing_timestamps(index, "h")) == 0
