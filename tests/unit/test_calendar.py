"""`--calendar auto`: sine/cosine pairs of the calendar parts that vary at the data's frequency, each row
carrying the calendar of its timestamp --horizon steps later (so a window's last rows carry the target
timestamps'), saved with the model and rebuilt identically by predict on both engines."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.calendar import calendar_columns, calendar_parts, calendar_values, resolve_calendar
from forecast_cli.errors import ConfigError
from forecast_cli.store import artifact
from tests.conftest import run_cli

TINY = ["--epochs", "1", "--hidden", "4", "--window", "8", "--horizon", "3", "--quiet"]


@pytest.mark.parametrize("freq, parts", [
    ("h", ("hour", "dayofweek", "dayofyear")), ("15min", ("hour", "dayofweek", "dayofyear")),
    ("D", ("dayofweek", "dayofyear")), ("B", ("dayofweek", "dayofyear")), ("7D", ("dayofyear",)),
    ("W-SUN", ("dayofyear",)), ("MS", ("month",)), ("QS", ("month",)), ("YS", ()), (None, ()),
])
def test_only_the_parts_that_vary_at_the_frequency_are_used(freq, parts):
    assert calendar_parts("auto", freq) == parts
    assert calendar_parts("off", freq) == ()
    assert len(calendar_columns("auto", freq)) == 2 * len(parts)


def test_each_row_carries_the_calendar_of_the_timestamp_horizon_steps_later():
    index = pd.date_range("2021-12-31 20:00", periods=50, freq="h")
    led, own = calendar_values(index, "auto", "h", 3), calendar_values(index, "auto", "h", 0)
    np.testing.assert_allclose(led[:-3], own[3:])
    hour_sin, hour_cos = own[4, 0], own[4, 1]  # 2022-01-01 00:00: the start of the day's cycle
    assert (hour_sin, hour_cos) == pytest.approx((0.0, 1.0))
    assert np.allclose(led[:, 0] ** 2 + led[:, 1] ** 2, 1)


@pytest.fixture(scope="module")
def hourly(tmp_path_factory):
    rows, steps = 200, np.arange(200)
    path = tmp_path_factory.mktemp("calendar") / "hourly.csv"
    pd.DataFrame({"time": pd.date_range("2021-01-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M"),
                  "value": (10 * np.sin(2 * np.pi * steps / 24) + 0.01 * steps).round(3)}).to_csv(path, index=False)
    out = path.parent / "m"
    result = run_cli("fit", path, "--target", "value", "--calendar", "auto", "--out", out, *TINY)
    assert result.exit_code == 0, result.stderr
    return path, out


def _predicted(out, *extra) -> np.ndarray:
    result = run_cli("predict", "--model", out, "--quiet", *extra)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))["value"].to_numpy()


def test_auto_keeps_only_the_cycles_the_training_part_covers_twice_and_says_what_it_left_out(hourly):
    # 200 hours: the training part spans about 6 days, two days' cycles but not two weeks'.
    _, out = hourly
    manifest = artifact.read_manifest(out)
    assert manifest.configs.data.calendar == "hour"
    assert manifest.model_spec.n_features == 1 + 2 and len(manifest.scaler.mean) == 3
    assert manifest.choices["calendar"]["left_out"] == ["dayofweek", "dayofyear"]
    np.testing.assert_allclose(_predicted(out, "--engine", "numpy"), _predicted(out), rtol=1e-5)
    info = run_cli("evaluate", "--model", out, "--json")
    assert info.exit_code == 0, info.stderr


def test_parts_given_are_kept_whatever_the_span_and_both_engines_agree(tmp_path, hourly):
    path, _ = hourly
    out = tmp_path / "m"
    result = run_cli("fit", path, "--target", "value", "--calendar", "dayofyear,hour,dayofweek", "--out", out,
                     *TINY[:-1])
    assert result.exit_code == 0, result.stderr
    assert "left out" not in result.stderr
    manifest = artifact.read_manifest(out)
    assert manifest.configs.data.calendar == "hour,dayofweek,dayofyear"  # column order, whatever the order given
    assert manifest.model_spec.n_features == 1 + 6 and len(manifest.scaler.mean) == 7
    np.testing.assert_allclose(_predicted(out, "--engine", "numpy"), _predicted(out), rtol=1e-5)


def test_a_manifest_saying_auto_reads_every_part_that_varies_at_its_frequency(tmp_path, hourly):
    # Saved before the parts were stored: `auto` then meant hour, day of week and day of year for hourly data.
    path, _ = hourly
    out = tmp_path / "m"
    assert run_cli("fit", path, "--target", "value", "--calendar", "hour,dayofweek,dayofyear", "--out", out,
                   *TINY).exit_code == 0
    before = _predicted(out)
    raw = json.loads((out / "manifest.json").read_text())
    raw["config"]["data"]["calendar"] = "auto"
    (out / "manifest.json").write_text(json.dumps(raw))
    np.testing.assert_array_equal(_predicted(out), before)


def test_the_fit_report_says_which_parts_auto_left_out_and_why(tmp_path, hourly):
    path, _ = hourly
    result = run_cli("fit", path, "--target", "value", "--out", tmp_path / "m", *TINY[:-1])
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("norm: "))
    assert "calendar: dayofweek and dayofyear left out: the training part covers" in line
    assert "under 2 of their cycles" in line


def test_the_default_is_auto_and_a_manifest_from_before_the_option_loads_without_a_calendar(tmp_path, hourly):
    from forecast_cli.config import DataConfig

    assert DataConfig.calendar == "auto"
    path, _ = hourly
    out = tmp_path / "m"
    assert run_cli("fit", path, "--target", "value", "--calendar", "off", "--out", out, *TINY).exit_code == 0
    raw = json.loads((out / "manifest.json").read_text())
    del raw["config"]["data"]["calendar"]
    (out / "manifest.json").write_text(json.dumps(raw))
    assert artifact.read_manifest(out).configs.data.calendar == "off"
    assert len(_predicted(out)) == 3


def test_an_unknown_calendar_mode_is_refused_in_one_line(tmp_path, hourly):
    path, _ = hourly
    result = run_cli("fit", path, "--target", "value", "--calendar", "yes", "--out", tmp_path / "m", *TINY)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --calendar must be 'auto', 'off' or parts from hour, dayofweek, "
                                     "dayofyear, month separated by commas (for example hour,dayofweek), not 'yes'.")


@pytest.mark.parametrize("freq, periods, parts", [
    ("h", 24 * 13, "hour"),  # 13 days: two days' cycles, under two weeks'
    ("h", 24 * 20, "hour,dayofweek"),
    ("h", 24 * 365 * 3, "hour,dayofweek,dayofyear"),
    ("D", 400, "dayofweek"),
    ("D", 800, "dayofweek,dayofyear"),
    ("MS", 24, "month"),  # two years of months, whichever month they start in
    ("MS", 23, "off"),
    ("D", 14, "dayofweek"),
    ("D", 13, "off"),
    ("W-SUN", 200, "dayofyear"),
    ("YS", 50, "off"),
])
@pytest.mark.parametrize("start", ["2020-01-01", "2021-02-01", "2023-07-01"])
def test_auto_resolves_to_the_parts_whose_cycle_the_training_rows_cover_twice(freq, periods, parts, start):
    index = pd.date_range(start, periods=periods, freq=freq)
    chosen, record = resolve_calendar("auto", freq, index)
    assert chosen == parts and record["chosen"] == parts
    assert record.get("left_out", []) == [p for p in calendar_parts("auto", freq) if p not in parts.split(",")]


def test_auto_leaves_out_a_part_whose_period_the_training_target_does_not_follow():
    # 60 days of hours: a 24-hour cycle keeps the hour; a 50-hour one (like sample_data/sine.csv) follows
    # neither the day nor the week, so both are left out, with the autocorrelations that decided it.
    index = pd.date_range("2024-01-01", periods=24 * 60, freq="h")
    steps, noise = np.arange(len(index)), np.random.default_rng(0).normal(0, 0.1, len(index))
    daily, _ = resolve_calendar("auto", "h", index, np.sin(2 * np.pi * steps / 24) + noise)
    assert daily == "hour,dayofweek"  # a daily cycle repeats every week too; day of year: under two years
    chosen, record = resolve_calendar("auto", "h", index, np.sin(2 * np.pi * steps / 50) + noise)
    assert chosen == "off" and record["left_out"] == ["dayofyear", "hour", "dayofweek"]
    assert record["autocorrelation"]["hour"] < 0.3 and record["autocorrelation"]["dayofweek"] < 0.3
    assert "hour and dayofweek left out: the training target's autocorrelation at their periods is under 0.3" \
        in record["reason"]
    weekly = 5 * (index.day_of_week >= 5) + noise  # weekends higher, no daily shape
    assert resolve_calendar("auto", "h", index, weekly)[0] == "dayofweek"


def test_parts_that_do_not_change_at_the_frequency_or_without_timestamps_are_refused():
    daily = pd.date_range("2020-01-01", periods=100, freq="D")
    with pytest.raises(ConfigError, match=r"--calendar hour,month: hour, month do not change between rows of "
                                          r"this D data; choose from dayofweek, dayofyear\."):
        resolve_calendar("month,hour", "D", daily)
    with pytest.raises(ConfigError, match="no timestamps at a regular frequency"):
        resolve_calendar("hour", None, pd.RangeIndex(100))
    assert resolve_calendar("auto", None, pd.RangeIndex(100))[0] == "off"
    assert resolve_calendar("off", "D", daily) == ("off", {"chosen": "off", "reason": "given by --calendar"})
    with pytest.raises(ConfigError, match="not 'hour,hour'"):
        resolve_calendar("hour,hour", "h", daily)


@pytest.mark.parametrize("stamps", [
    pd.date_range("1969-12-20", periods=5000, freq="37min"),  # across the epoch: floor division, not truncation
    pd.date_range("2021-03-20", periods=5000, freq="17min", tz="Europe/Berlin"),  # across a DST change
    pd.DatetimeIndex(np.random.default_rng(0).permutation(pd.date_range("2023-12-25", periods=5000, freq="53min"))),
])
def test_sub_daily_calendar_equals_the_sines_of_pandas_calendar_fields(stamps):
    # Days are computed once per run of rows on one day: shuffled rows (runs of one) and leap years too.
    values = calendar_values(stamps, "auto", "min", 0).astype(np.float64)
    phases = {"hour": (stamps.hour + stamps.minute / 60) / 24, "dayofweek": stamps.day_of_week / 7,
              "dayofyear": (stamps.day_of_year - 1) / np.where(stamps.is_leap_year, 366, 365)}
    for position, phase in enumerate(phases.values()):
        np.testing.assert_allclose(values[:, 2 * position], np.sin(2 * np.pi * np.asarray(phase)), atol=2e-6)
        np.testing.assert_allclose(values[:, 2 * position + 1], np.cos(2 * np.pi * np.asarray(phase)), atol=2e-6)


def test_calendar_values_are_float32_sines_and_cosines_of_those_phases():
    index = pd.date_range("2024-01-01", periods=100, freq="h")
    values = calendar_values(index, "auto", "h", 0)
    assert values.dtype == np.float32 and values.shape == (100, 6)
    np.testing.assert_allclose(values[:, 0], np.sin(2 * np.pi * index.hour / 24), atol=1e-6)
    np.testing.assert_allclose(values[:, 3], np.cos(2 * np.pi * index.day_of_week / 7), atol=1e-6)
