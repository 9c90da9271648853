"""`forecast backtest`: expanding-window refits whose test blocks tile the end of the data, never
trained on; mean and std across folds beside the baselines; the --json shape; nothing written
without --out."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_TARGET, run_cli, write_tiny_csv

import forecast_cli
from forecast_cli.backtesting import plan_folds

FOLDS, HORIZON = 3, 2
TINY_FIT = ["--target", TINY_TARGET, "--window", "10", "--horizon", str(HORIZON), "--hidden", "4", "--epochs", "1",
            "--batch-size", "32", "--device", "cpu"]


@pytest.fixture(scope="module")
def backtest_run(tmp_path_factory):
    """One backtest of a 120-row daily CSV (its first row dropped: a blank feature), in an empty folder."""
    folder = tmp_path_factory.mktemp("backtest")
    csv = write_tiny_csv(folder / "tiny.csv")
    result = run_cli("backtest", csv, *TINY_FIT, "--folds", FOLDS, "--json")
    assert result.exit_code == 0, result.stderr
    return folder, csv, json.loads(result.stdout), result


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_backtest_blocks_tile_the_end_of_the_data_and_no_fold_trains_on_its_block(backtest_run):
    _, csv, result, _ = backtest_run
    folds, block = result["per_fold"], result["block_rows"]
    assert [fold["fold"] for fold in folds] == [1, 2, 3] and block >= 2 * HORIZON - 1
    one_day = pd.Timedelta(days=1)
    assert _day(folds[-1]["test"]["last"]) == pd.Timestamp(pd.read_csv(csv)["date"].iloc[-1])
    for fold in folds:
        train, val, test = fold["train"], fold["validation"], fold["test"]
        assert test["rows"] == block and test["origins"] == block - HORIZON + 1 >= HORIZON
        assert _day(train["last"]) + one_day == _day(val["first"])
        assert _day(val["last"]) + one_day == _day(test["first"])  # trained and tuned on everything before it
        assert _day(test["last"]) - _day(test["first"]) == (block - 1) * one_day
    for earlier, later in zip(folds, folds[1:]):
        assert _day(earlier["test"]["last"]) + one_day == _day(later["test"]["first"])  # tiled, no overlap
        assert later["train"]["rows"] + later["validation"]["rows"] == (
            earlier["train"]["rows"] + earlier["validation"]["rows"] + block)  # expanding by one block
        assert later["train"]["first"] == earlier["train"]["first"]


def test_backtest_aggregate_is_the_mean_and_std_across_folds(backtest_run):
    result = backtest_run[2]
    folds = result["per_fold"]
    for metric, spread in result["aggregate"]["metrics"].items():
        values = [fold["metrics"][metric] for fold in folds]
        assert spread["mean"] == pytest.approx(np.mean(values))
        assert spread["std"] == pytest.approx(np.std(values, ddof=1))
        assert spread["folds"] == FOLDS
    for baseline in ("naive", "seasonal_naive", "linear"):
        values = [fold["baselines"][baseline]["mae"] for fold in folds]
        assert result["aggregate"]["baselines"][baseline]["mae"]["mean"] == pytest.approx(np.mean(values))


def test_backtest_json_has_per_fold_results_and_the_aggregate(backtest_run):
    result = backtest_run[2]
    assert {"data", "task", "rows", "folds", "horizon", "block_rows", "per_fold", "aggregate"} <= set(result)
    assert result["folds"] == FOLDS and result["horizon"] == HORIZON and result["task"] == "forecast"
    fold = result["per_fold"][0]
    assert {"fold", "train", "validation", "test", "best_epoch", "epochs_run", "metrics", "baselines"} <= set(fold)
    assert set(fold["metrics"]) == {"mape", "smape", "mae", "rmse", "mase"}
    assert set(fold["baselines"]) == {"naive", "seasonal_naive", "linear"}
    assert set(result["aggregate"]["metrics"]["mae"]) == {"mean", "std", "folds"}


def test_backtest_writes_nothing_without_out_and_prints_a_table_by_default(backtest_run, tmp_path, monkeypatch):
    folder, csv, _, result = backtest_run
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.csv"]
    assert "fold 1/3" in result.stderr and result.stderr.count("dropped 1 leading row") == 1
    monkeypatch.chdir(tmp_path)
    table = run_cli("backtest", csv, *TINY_FIT, "--folds", 2, "--quiet")
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[2].split() == ["metric", "model", "naive", "seasonal", "naive", "linear"]
    assert "±" in table.stdout and list(tmp_path.iterdir()) == []
    written = run_cli("backtest", csv, *TINY_FIT, "--folds", 2, "--quiet", "--out", tmp_path / "report")
    assert written.exit_code == 0, written.stderr
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["backtest.json", "backtest.md"]
    saved = json.loads((tmp_path / "report" / "backtest.json").read_text())
    assert saved["folds"] == 2 and "| metric | model |" in (tmp_path / "report" / "backtest.md").read_text()


def test_backtest_refuses_folds_that_leave_too_little_to_train_on_in_one_line(tiny_csv):
    result = run_cli("backtest", tiny_csv, *TINY_FIT, "--folds", 40)
    assert result.exit_code == 2
    assert "tiny.csv: --folds 40 with --horizon 2 needs blocks of 3 rows" in result.stderr.strip().splitlines()[-1]
    assert len([line for line in result.stderr.splitlines() if line.startswith("error")]) == 1


def test_backtest_takes_the_fit_options_and_refuses_a_model_directory(tiny_csv):
    result = run_cli("backtest", tiny_csv, *TINY_FIT, "--cell", "bogus")
    assert result.exit_code == 2 and "--cell must be" in result.stderr
    assert run_cli("backtest", tiny_csv, *TINY_FIT, "--resume").exit_code == 2
    with pytest.raises(forecast_cli.api.ConfigError, match="'out_dir' is not a fit option"):
        forecast_cli.backtest(tiny_csv, TINY_TARGET, folds=2, out_dir="x")


def test_fold_plan_tiles_the_last_test_frac_of_rows_in_equal_blocks():
    plans = plan_folds(100, 4, 0.2, 1, "data")
    assert [(p.start, p.stop) for p in plans] == [(80, 85), (85, 90), (90, 95), (95, 100)]
    assert [(p.start, p.stop) for p in plan_folds(100, 2, 0.1, 4, "data")] == [(86, 93), (93, 100)]  # 2H-1 rows
