"""report.py's one-line summary and the line that says when a baseline beats the model, exact text."""

from __future__ import annotations

import pytest

from forecast_cli.errors import ConfigError, ThresholdBreached
from forecast_cli.evaluate import check_thresholds, parse_thresholds
from forecast_cli.report import markdown, summary_line, verdict_line


def result(model: float | None, **baselines: float | None) -> dict:
    scores = lambda mase: {"mape": 0.1, "smape": 0.1, "mae": 1.0, "rmse": 1.0, "mase": mase}  # noqa: E731
    return {"metrics": scores(model), "baselines": {name: scores(mase) for name, mase in baselines.items()},
            "per_step": [], "horizon": 1, "windows": 20, "excluded_zero_targets": 0}


def test_summary_names_seasonal_naive_when_it_is_the_better_baseline():
    assert summary_line(result(0.81, naive=1.10, seasonal_naive=0.69)) == (
        "test mase 0.8100 vs seasonal naive 0.6900 (the better baseline) and naive 1.1000 over 20 windows, horizon 1")


def test_summary_names_naive_when_it_is_the_better_baseline_and_lists_linear():
    assert summary_line(result(0.5, naive=0.6, seasonal_naive=0.9, linear=0.55)) == (
        "test mase 0.5000 vs naive 0.6000 (the better baseline), seasonal naive 0.9000 and linear 0.5500 "
        "over 20 windows, horizon 1")


def test_summary_without_a_season_compares_with_naive_alone():
    assert summary_line(result(0.5, naive=0.6)) == "test mase 0.5000 vs naive 0.6000 over 20 windows, horizon 1"


def test_summary_falls_back_to_mape_when_mase_is_undefined():
    assert summary_line(result(None, naive=None)) == (
        "test relative error (mape) 0.1000 vs naive 0.1000 over 20 windows, horizon 1")


def test_verdict_names_the_baseline_that_beats_the_model():
    assert verdict_line(result(1.28, naive=1.5, seasonal_naive=0.69)) == (
        "the model is worse than seasonal naive on the test part (mase 1.2800 vs 0.6900); "
        "the baseline is the better answer here.")


def test_verdict_counts_the_linear_baseline_too():
    assert verdict_line(result(0.9, naive=1.0, seasonal_naive=1.2, linear=0.7), "this backtest") == (
        "the model is worse than linear on this backtest (mase 0.9000 vs 0.7000); the baseline is the better answer here.")


def test_no_verdict_when_the_model_beats_every_baseline():
    assert verdict_line(result(0.5, naive=0.6, seasonal_naive=0.7)) is None
    assert verdict_line(result(None, naive=0.6)) is None


def test_markdown_report_carries_the_verdict():
    text = markdown(result(1.28, naive=1.5, seasonal_naive=0.69), "Test part", "the test part")
    assert "\nThe model is worse than seasonal naive on the test part (mase 1.2800 vs 0.6900);" in text
    assert "worse than" not in markdown(result(0.5, naive=0.6), "Test part")


def test_fail_above_mase_vs_best_uses_the_better_naive_baseline():
    limits = parse_thresholds(["mase_vs_best=1.0"])
    check_thresholds(result(0.9, naive=1.0, seasonal_naive=2.0), limits)
    with pytest.raises(ThresholdBreached) as caught:
        check_thresholds(result(0.9, naive=1.0, seasonal_naive=0.6), limits)
    assert str(caught.value) == "mase_vs_best 1.5000 is above the limit 1.0 set with --fail-above."


def test_fail_above_mase_vs_naive_is_the_ratio_to_naive():
    with pytest.raises(ThresholdBreached, match=r"^mase_vs_naive 1\.2000 is above the limit 1\.0 "):
        check_thresholds(result(1.2, naive=1.0, seasonal_naive=0.5), parse_thresholds(["mase_vs_naive=1.0"]))


def test_fail_above_ratio_without_the_baseline_is_refused_in_one_line():
    with pytest.raises(ConfigError) as caught:
        check_thresholds(result(0.9, naive=1.0), parse_thresholds(["mase_vs_seasonal_naive=1"]))
    assert str(caught.value) == ("--fail-above mase_vs_seasonal_naive: the ratio is undefined on this data: "
                                 "seasonal naive has no mase above 0 here (the model has no season); "
                                 "limit another metric.")
    with pytest.raises(ConfigError, match="the model's mase is undefined"):
        check_thresholds(result(None, naive=None), parse_thresholds(["mase_vs_naive=1"]))


def test_fail_above_lists_the_ratios_among_known_names():
    with pytest.raises(ConfigError) as caught:
        parse_thresholds(["mase_vs_nothing=1"])
    assert str(caught.value) == ("--fail-above 'mase_vs_nothing=1': unknown metric 'mase_vs_nothing'; use one of "
                                 "mape, smape, mae, rmse, mase, mase_vs_naive, mase_vs_seasonal_naive, "
                                 "mase_vs_linear, mase_vs_best.")
