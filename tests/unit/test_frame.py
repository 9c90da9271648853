"""frame.py and timeindex.py: time detection, sorting, duplicates, frequency, gaps, row counters, leaks, categories."""

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA, make_tiny_frame

from forecast_cli.errors import DataError
from forecast_cli.data.frame import build_frame, rebuild_frame
from forecast_cli.data.io import read_table


def _pollution_like(rows: int = 48) -> pd.DataFrame:
    """Split hourly time columns, a row counter, blanks (3 leading, 2 interior) and a text wind column."""
    stamps = pd.date_range("2013-03-01", periods=rows, freq="h")
    rng = np.random.default_rng(3)
    pm = np.round(80 + 20 * np.sin(np.arange(rows) / 4) + rng.normal(0, 2, rows), 1)
    pm[:3] = np.nan
    pm[[10, 11]] = np.nan
    return pd.DataFrame({
        "No": np.arange(1, rows + 1), "year": stamps.year, "month": stamps.month, "day": stamps.day,
        "hour": stamps.hour, "pm2.5": pm, "DEWP": np.round(rng.normal(-5, 3, rows), 1),
        "cbwd": rng.choice(["NW", "SE", "cv"], rows),
    })


@pytest.fixture(scope="module")
def shanghai():
    return read_table(str(SAMPLE_DATA / "sh000001_daily.csv"))


def test_shanghai_label_column_is_excluded_as_a_leak(shanghai):
    raw = shanghai.raw
    np.testing.assert_allclose(raw["label"].to_numpy()[:-1], raw["high"].to_numpy()[1:])  # the premise
    frame = build_frame(raw, shanghai.name, "close", None, None, 1)
    assert "label" in frame.spec.excluded
    assert "label" not in frame.spec.input_columns
    assert (f"{shanghai.name}: column 'label' is not used as an input: it equals 'high' 1 row(s) later, so it "
            "would leak the future.") in frame.notes
    assert set(frame.spec.input_columns) == {"close", "open", "low", "high", "volume", "money", "change"}


def test_column_equal_to_the_next_target_is_excluded_as_a_leak():
    raw = make_tiny_frame(40).drop(columns="temp")
    raw["tomorrow"] = raw["sales"].shift(-1)
    frame = build_frame(raw, "tiny.csv", "sales", None, None, 1)
    assert frame.spec.excluded["tomorrow"] == "it equals 'sales' 1 row(s) later, so it would leak the future"
    assert frame.spec.input_columns == ["sales"]


def test_shanghai_dates_infer_business_days(shanghai):
    frame = build_frame(shanghai.raw, shanghai.name, "close", None, None, 1)
    assert frame.spec.time_cols == ("date",)
    assert frame.freq == "B"


def test_year_month_day_hour_columns_combine_into_an_hourly_index():
    frame = build_frame(_pollution_like(), "pollution.csv", "pm2.5", None, None, 1)
    assert frame.spec.time_cols == ("year", "month", "day", "hour")
    assert frame.freq == "h"
    assert frame.data.index[0] == pd.Timestamp("2013-03-01 03:00")  # after the 3 dropped leading rows
    assert not {"year", "month", "day", "hour"} & set(frame.spec.input_columns)


def test_row_counter_no_is_excluded():
    frame = build_frame(_pollution_like(), "pollution.csv", "pm2.5", None, None, 1)
    assert frame.spec.excluded == {"No": "it counts rows, it is not a measurement"}
    assert frame.spec.input_columns == ["pm2.5", "DEWP"]
    assert "pollution.csv: column 'No' is not used as an input: it counts rows, it is not a measurement." in frame.notes


def test_leading_blanks_are_dropped_and_interior_ones_interpolated_and_counted():
    raw = _pollution_like()
    frame = build_frame(raw, "pollution.csv", "pm2.5", None, None, 1)
    assert (frame.dropped_leading, frame.filled) == (3, 2)
    assert "pollution.csv: dropped 3 leading row(s) with missing values." in frame.notes
    assert "pollution.csv: filled 2 missing value(s) by interpolation in time." in frame.notes
    pm = frame.data["pm2.5"]
    before, after = raw["pm2.5"][9], raw["pm2.5"][12]
    np.testing.assert_allclose(pm.iloc[[7, 8]], [before + (after - before) / 3, before + 2 * (after - before) / 3])
    assert not frame.data.isna().any().any()


def test_interior_gap_is_interpolated_by_time_not_by_row():
    """Day 3 missing between day 2 (10) and day 5 (40): a third of the way in time, 20, not halfway (25)."""
    raw = pd.DataFrame({"date": ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-05"],
                        "value": [0.0, 10.0, np.nan, 40.0]})
    frame = build_frame(raw, "gaps.csv", "value", None, None, 1)
    assert frame.data["value"].iloc[2] == pytest.approx(20.0)


def test_real_pollution_file_frame(tmp_path):
    table = read_table(str(SAMPLE_DATA / "pollution.csv"))
    frame = build_frame(table.raw, table.name, "pm2.5", None, None, 1)
    assert frame.spec.time_cols == ("year", "month", "day", "hour") and frame.freq == "h"
    assert (frame.dropped_leading, frame.filled) == (24, 2043)  # 2,067 NA in pm2.5 in all
    assert "No" in frame.spec.excluded and "cbwd" not in frame.spec.input_columns


def test_shuffled_rows_are_sorted_with_a_note():
    ordered = make_tiny_frame(40)
    shuffled = ordered.sample(frac=1.0, random_state=0).reset_index(drop=True)
    frame = build_frame(shuffled, "tiny.csv", "sales", None, None, 1)
    assert frame.data.index.is_monotonic_increasing
    np.testing.assert_array_equal(frame.data["sales"].to_numpy(), ordered["sales"].to_numpy()[1:])
    assert "tiny.csv: rows were not in time order; sorted by date." in frame.notes


def test_duplicate_timestamp_is_an_error_naming_the_first_one():
    raw = make_tiny_frame(40)
    raw.loc[30, "date"] = raw.loc[12, "date"]  # 2021-01-16 again, on CSV line 32
    raw.loc[35, "date"] = raw.loc[20, "date"]
    with pytest.raises(DataError) as raised:
        build_frame(raw, "tiny.csv", "sales", None, None, 1)
    assert str(raised.value) == ("tiny.csv: timestamp 2021-01-16 00:00:00 appears more than once (line 32); "
                                 "keep one row per timestamp.")


def test_text_feature_is_one_hot_encoded_with_its_categories_saved():
    raw = _pollution_like()
    frame = build_frame(raw, "pollution.csv", "pm2.5", ("DEWP", "cbwd"), None, 1)
    assert frame.spec.categories == {"cbwd": ["NW", "SE", "cv"]}
    assert frame.spec.input_columns == ["pm2.5", "DEWP", "cbwd=NW", "cbwd=SE", "cbwd=cv"]
    onehot = frame.data[["cbwd=NW", "cbwd=SE", "cbwd=cv"]]
    np.testing.assert_array_equal(onehot.sum(axis=1), 1.0)
    kept = raw.iloc[3:]
    np.testing.assert_array_equal(onehot["cbwd=SE"].to_numpy(), (kept["cbwd"] == "SE").to_numpy(dtype=float))
    replayed = rebuild_frame(raw.iloc[:20].replace({"cbwd": {"SE": "NW"}}), "new.csv", frame.spec)
    assert list(replayed.data.columns) == frame.spec.input_columns  # the saved categories, even one now absent
    assert (replayed.data["cbwd=SE"] == 0).all()


def test_timestamps_whose_offset_changes_with_daylight_saving_become_utc():
    local = pd.date_range("2021-03-20", periods=30, freq="D", tz="Australia/Melbourne")  # DST ends 2021-04-04
    raw = pd.DataFrame({"Date": local.astype(str), "Temp": np.linspace(10, 20, 30)})
    assert raw["Date"].str[-6:].nunique() == 2  # +11:00 then +10:00
    frame = build_frame(raw, "melbourne.csv", "Temp", None, None, 1)
    assert frame.data.index.tz is None
    assert list(frame.data.index) == list(local.tz_convert("UTC").tz_localize(None))
    assert frame.freq == "D"


def test_features_naming_the_time_column_leave_it_out_with_a_note():
    raw = make_tiny_frame(40)
    frame = build_frame(raw, "tiny.csv", "sales", ("date", "temp"), None, 1)
    assert frame.spec.input_columns == ["sales", "temp"]  # not 40 one-hot date columns
    assert "tiny.csv: column 'date' is not used as an input: it is the time column." in frame.notes


def test_text_target_error_says_to_choose_another_target():
    raw = make_tiny_frame(40).assign(sales="n/a")
    with pytest.raises(DataError) as raised:
        build_frame(raw, "tiny.csv", "sales", None, None, 1)
    assert str(raised.value) == ("tiny.csv: column 'sales' line 2 holds 'n/a', not a number. "
                                 "The target must hold numbers; choose another --target.")


def test_frequency_stays_a_string_when_pandas_returns_an_offset(monkeypatch):
    """pandas announces that infer_freq will return an offset object; the manifest needs the alias text."""
    from forecast_cli.data import timeindex

    monkeypatch.setattr(timeindex.pd, "infer_freq", lambda index: pd.tseries.frequencies.to_offset("D"))
    assert timeindex.infer_frequency(pd.date_range("2020-01-01", periods=5, freq="D")) == "D"


def test_a_column_named_with_a_time_word_is_the_time_column_and_its_bad_line_is_named():
    from forecast_cli.data.timeindex import detect_time_columns, parse_time

    raw = pd.DataFrame({"Week Ending": ["01/04/1981", "01/11/1981", "2021-13-45"], "temp": [18.0, 17.5, 17.0]})
    assert detect_time_columns(raw, None, "weekly.csv") == ("Week Ending",)
    with pytest.raises(DataError, match="line 4 holds '2021-13-45'"):
        parse_time(raw, ("Week Ending",), "weekly.csv")


def test_trailing_blank_targets_are_dropped_not_carried_forward():
    raw = make_tiny_frame(40)
    raw.loc[37:, "sales"] = np.nan  # lines 39-41 of the CSV
    raw.loc[30, "sales"] = np.nan  # an interior gap is still interpolated
    frame = build_frame(raw, "tiny.csv", "sales", None, None, 1)
    assert frame.data.index[-1] == pd.Timestamp(raw["date"].iloc[36])
    assert frame.data["sales"].iloc[-1] == raw["sales"].iloc[36]
    assert frame.dropped_trailing == 3 and frame.filled == 1
    assert ("tiny.csv: dropped 3 trailing row(s) whose target 'sales' is blank; the data ends at the last observed "
            "value, 2021-02-09 (line 38).") in frame.notes
    assert "tiny.csv: filled 1 missing value(s) by interpolation in time." in frame.notes


def test_an_input_blank_in_the_last_rows_is_said_to_be_carried_forward():
    raw = make_tiny_frame(40)
    raw.loc[38:, "temp"] = np.nan
    frame = build_frame(raw, "tiny.csv", "sales", None, None, 1)
    assert len(frame.data) == 39  # the first row (temp blank) dropped, the last two kept
    assert frame.data["temp"].iloc[-1] == frame.data["temp"].iloc[-3] == raw["temp"].iloc[37]
    assert "tiny.csv: column 'temp' is blank in the last 2 row(s); its last value is carried forward." in frame.notes
    assert not [note for note in frame.notes if "interpolation" in note]
