"""The fit summary names the better baseline; fit and evaluate say in one line when a baseline beats
the model; `evaluate --fail-above mase_vs_naive=...` limits the ratio of the model's MASE to a baseline's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli.app import app

runner = CliRunner()


def weekly_csv(path: Path, rows: int = 140) -> Path:
    """A clean weekly cycle: seasonal naive is nearly exact, a model trained one epoch is near naive."""
    steps = np.arange(rows)
    value = 50 + 10 * np.sin(2 * np.pi * steps / 7) + np.random.default_rng(0).normal(0, 0.1, rows)
    pd.DataFrame({"date": pd.date_range("2021-01-04", periods=rows, freq="D").strftime("%Y-%m-%d"),
                  "value": value.round(3)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted_weekly(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weekly")
    data, out = weekly_csv(folder / "weekly.csv"), folder / "model"
    result = runner.invoke(app, ["fit", str(data), "--target", "value", "--out", str(out), "--epochs", "1",
                                 "--hidden", "4", "--window", "10", "--seed", "0",
                                 "--norm", "window"])  # from naive: --norm auto would start at seasonal naive
    assert result.exit_code == 0, result.stderr
    return out, result.stderr, json.loads((out / "report.json").read_text())


def f4(value: float) -> str:
    return f"{value:.4f}"


def test_fit_summary_names_the_better_baseline_and_says_the_model_is_worse(fitted_weekly):
    _, stderr, report = fitted_weekly
    model, naive = report["metrics"]["mase"], report["baselines"]["naive"]["mase"]
    seasonal = report["baselines"]["seasonal_naive"]["mase"]
    assert seasonal < model < naive * 1.5  # the premise: one epoch leaves the model near naive
    lines = stderr.splitlines()
    summary = next(line for line in lines if line.startswith("test mase"))
    assert summary.startswith(f"test mase {f4(model)} vs seasonal naive {f4(seasonal)} (the better baseline)")
    assert f"naive {f4(naive)}" in summary
    assert (f"the model is worse than seasonal naive on the test part (mase {f4(model)} vs {f4(seasonal)}); "
            "the baseline is the better answer here.") in lines


def test_evaluate_says_the_model_is_worse_in_one_line(fitted_weekly):
    out = fitted_weekly[0]
    result = runner.invoke(app, ["evaluate", "--model", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)
    model, seasonal = scores["metrics"]["mase"], scores["baselines"]["seasonal_naive"]["mase"]
    verdicts = [line for line in result.stderr.splitlines() if line.startswith("the model is worse")]
    assert verdicts == [f"the model is worse than seasonal naive on this backtest (mase {f4(model)} vs "
                        f"{f4(seasonal)}); the baseline is the better answer here."]


def test_fail_above_mase_vs_seasonal_naive_exits_3(fitted_weekly):
    out = fitted_weekly[0]
    result = runner.invoke(app, ["evaluate", "--model", str(out), "--json", "--fail-above",
                                 "mase_vs_seasonal_naive=1.0"])
    assert result.exit_code == 3, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: mase_vs_seasonal_naive ")
    assert result.stderr.strip().endswith("is above the limit 1.0 set with --fail-above.")


def test_fail_above_mase_vs_best_within_the_limit_exits_0(fitted_weekly):
    result = runner.invoke(app, ["evaluate", "--model", str(fitted_weekly[0]), "--json", "--fail-above",
                                 "mase_vs_best=1000"])
    assert result.exit_code == 0, result.stderr


def test_fail_above_ratio_to_a_missing_baseline_is_refused_in_one_line(tmp_path):
    rows = 80  # no time column: no frequency, so no season and no seasonal naive baseline
    pd.DataFrame({"value": 10 + np.sin(np.arange(rows) / 3)}).to_csv(tmp_path / "plain.csv", index=False)
    fit = runner.invoke(app, ["fit", str(tmp_path / "plain.csv"), "--target", "value", "--out", str(tmp_path / "m"),
                              "--epochs", "1", "--hidden", "4", "--window", "5", "--quiet"])
    assert fit.exit_code == 0, fit.stderr
    result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "m"), "--json", "--quiet",
                                 "--fail-above", "mase_vs_seasonal_naive=1"])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == ("error: --fail-above mase_vs_seasonal_naive: the ratio is undefined on this "
                                     "data: seasonal naive has no mase above 0 here (the model has no season); "
                                     "limit another metric.")
