"""`forecast backtest --id-col`: the folds' blocks are cut at the same times in every series and tile
their ends; no fold trains or tunes on any series' rows in its block; each fold reports the aggregate
over series; series too short for a fold are skipped with one warning; unsupported combinations end
in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import make_long_frame, run_cli

import forecast_cli

FOLDS, HORIZON = 3, 2
TINY = ["--target", "sales", "--id-col", "store", "--window", "8", "--horizon", str(HORIZON), "--hidden", "4",
        "--epochs", "1", "--batch-size", "32", "--device", "cpu"]


def _long_with_a_short_series() -> pd.DataFrame:
    """make_long_frame's four series (`d` ending 5 days early) and `tiny`, 12 rows ending with `a`."""
    frame = make_long_frame()
    end = frame["date"].max()
    tiny = pd.DataFrame({"store": "tiny", "date": pd.date_range(end=end, periods=12, freq="D"), "sales": 3.0})
    return pd.concat([frame, tiny], ignore_index=True)


@pytest.fixture(scope="module")
def many_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest_many")
    csv = folder / "long.csv"
    frame = _long_with_a_short_series()
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = run_cli("backtest", csv, *TINY, "--folds", FOLDS, "--json")
    assert result.exit_code == 0, result.stderr
    return frame, json.loads(result.stdout), result.stderr


def test_blocks_tile_every_series_end_and_no_fold_trains_on_its_block(many_run):
    frame, result, _ = many_run
    folds, block, day = result["per_fold"], result["block_rows"], pd.Timedelta(days=1)
    longest = frame[frame["store"] == result["reference_series"]]["date"].sort_values().reset_index(drop=True)
    assert result["reference_series"] in ("a", "b", "c") and len(folds) == FOLDS and block >= 2 * HORIZON - 1
    assert pd.Timestamp(folds[0]["test"]["first"]) == longest.iloc[len(longest) - FOLDS * block]
    assert pd.Timestamp(folds[-1]["test"]["last"]) == frame["date"].max()
    for fold in folds:
        start, last = pd.Timestamp(fold["test"]["first"]), pd.Timestamp(fold["test"]["last"])
        assert pd.Timestamp(fold["train"]["last"]) < start and pd.Timestamp(fold["validation"]["last"]) < start
        in_block = frame[(frame["date"] >= start) & (frame["date"] <= last) & (frame["store"] != "tiny")]
        assert fold["test"]["rows"] == len(in_block)  # every kept series' rows in the block, and only those
    for earlier, later in zip(folds, folds[1:]):
        assert pd.Timestamp(earlier["test"]["last"]) + day == pd.Timestamp(later["test"]["first"])
    # `d` ends 5 days early: it has no rows in the last block (trains only); the others all have `block`
    assert [fold["aggregate"]["series"] for fold in folds] == [4, 4, 3]


def test_each_fold_reports_its_aggregate_over_series_and_the_folds_mean_and_std(many_run):
    _, result, _ = many_run
    assert result["series"] == 5 and result["id_col"] == ["store"]
    for fold in result["per_fold"]:
        aggregate = fold["aggregate"]
        assert set(aggregate) >= {"series", "mean", "median", "share_beating"}
        assert aggregate["mean"] == fold["metrics"]
        assert 0 <= aggregate["share_beating"]["naive"] <= 1
    values = [fold["metrics"]["mase"] for fold in result["per_fold"]]
    spread = result["aggregate"]["metrics"]["mase"]
    assert spread["mean"] == pytest.approx(np.mean(values)) and spread["std"] == pytest.approx(np.std(values, ddof=1))


def test_a_series_too_short_for_the_folds_is_skipped_with_one_warning(many_run):
    stderr = many_run[2]
    skipped = [line for line in stderr.splitlines() if "skipped 1 of 5 series" in line]
    assert len(skipped) == 1 and skipped[0].startswith("warning: fold 1:")


def test_backtest_api_takes_a_long_dataframe_with_id_col():
    result = forecast_cli.backtest(make_long_frame(60), "sales", id_col="store", folds=2, window=8, horizon=2,
                                   hidden=4, epochs=1, device="cpu", warn=lambda message: None)
    assert [fold["fold"] for fold in result["per_fold"]] == [1, 2] and "aggregate" in result["per_fold"][0]


@pytest.mark.parametrize("case, extra, words", [
    ("no time column", ["--folds", "2"], "--time-col"),
    ("too many folds", ["--folds", "40"], "longest series"),
    ("no test rows", ["--folds", "2", "--test-frac", "0"], "--test-frac 0"),
])
def test_unsupported_many_series_backtests_end_in_one_line(tmp_path, case, extra, words):
    frame = make_long_frame()
    if case == "no time column":
        frame = frame.drop(columns="date")
    csv = tmp_path / "long.csv"
    frame.to_csv(csv, index=False)
    result = run_cli("backtest", csv, *TINY, *extra)
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0] and "Traceback" not in result.stderr
