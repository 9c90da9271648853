"""report.py: the Markdown report, the one summary line and the terminal table, for a forecaster's
backtest result and a classifier's, written out in full so any change of layout or number shows."""

from __future__ import annotations

import copy
import io

import pytest
from rich.console import Console

from forecast_cli import report
from forecast_cli.errors import ConfigError, ThresholdBreached
from forecast_cli.evaluate import check_thresholds, parse_thresholds
from forecast_cli.report import markdown, summary_line, verdict_line


def scores(mape, smape, mae, rmse, mase) -> dict:
    return {"mape": mape, "smape": smape, "mae": mae, "rmse": rmse, "mase": mase}


FORECAST = {
    "metrics": scores(0.125, 0.25, 1.5, 2.0, 0.8),
    "per_step": [{"step": 1, **scores(0.1, 0.2, 1.0, 1.25, 0.5)}, {"step": 2, **scores(0.15, 0.3, 2.0, 2.5, None)}],
    "baselines": {"naive": scores(0.5, 0.4, 1234.56, 2000.0, 1.0),
                  "seasonal_naive": scores(0.375, 0.3, 3.0, 4.0, 1.25)},
    "horizon": 2,
    "windows": 17,
    "excluded_zero_targets": 3,
}

CLASSIFY = {
    "task": "classify",
    "label": "close_direction",
    "classes": ["down", "up"],
    "metrics": {"accuracy": 0.75, "balanced_accuracy": 0.7, "macro_f1": 0.6875},
    "baselines": {"majority": {"accuracy": 0.5, "balanced_accuracy": 0.5, "macro_f1": 0.3333},
                  "persistence": {"accuracy": 0.6667, "balanced_accuracy": 0.625, "macro_f1": 0.6}},
    "confusion_matrix": [[5, 1], [2, 4]],
    "per_class": {},
    "horizon": 3,
    "windows": 12,
}


def test_forecast_markdown_has_the_overall_table_then_one_row_per_horizon_step():
    assert report.markdown(FORECAST, "Backtest on sales.csv") == (
        "# Backtest on sales.csv\n"
        "\n"
        "17 forecast origins, horizon 2; mape is the mean relative error |ŷ−y|/|y| (points with y = 0 "
        "excluded: 3).\n"
        "\n"
        "| forecaster | mape | smape | mae | rmse | mase |\n"
        "|---|---|---|---|---|---|\n"
        "| model | 0.1250 | 0.2500 | 1.5000 | 2.0000 | 0.8000 |\n"
        "| naive | 0.5000 | 0.4000 | 1,234.6 | 2,000.0 | 1.0000 |\n"
        "| seasonal_naive | 0.3750 | 0.3000 | 3.0000 | 4.0000 | 1.2500 |\n"
        "\n"
        "| step | mape | smape | mae | rmse | mase |\n"
        "|---|---|---|---|---|---|\n"
        "| 1 | 0.1000 | 0.2000 | 1.0000 | 1.2500 | 0.5000 |\n"
        "| 2 | 0.1500 | 0.3000 | 2.0000 | 2.5000 | - |\n"
    )


def test_forecast_markdown_for_one_step_has_no_per_step_table():
    one_step = copy.deepcopy(FORECAST)
    one_step.update(horizon=1, per_step=one_step["per_step"][:1])
    text = report.markdown(one_step)
    assert text.startswith("# Backtest\n\n17 forecast origins, horizon 1;")
    assert "| step |" not in text
    assert text.endswith("| seasonal_naive | 0.3750 | 0.3000 | 3.0000 | 4.0000 | 1.2500 |\n")


def test_forecast_summary_line_sets_the_model_beside_the_better_baseline():
    assert report.summary_line(FORECAST) == (
        "test mase 0.8000 vs naive 1.0000 (the better baseline) and seasonal naive 1.2500 over 17 windows, horizon 2")


def test_an_undefined_mape_is_shown_as_a_dash():
    all_zero_targets = copy.deepcopy(FORECAST)
    all_zero_targets["metrics"]["mape"] = all_zero_targets["baselines"]["naive"]["mape"] = None
    assert "| model | - | 0.2500 |" in report.markdown(all_zero_targets)
    assert "| naive | - | 0.4000 |" in report.markdown(all_zero_targets)


def test_classify_markdown_has_the_scores_beside_the_baselines_then_the_confusion_matrix():
    assert report.markdown(CLASSIFY, "Backtest on sh.csv") == (
        "# Backtest on sh.csv\n"
        "\n"
        "12 windows, each labelled by 'close_direction' 3 row(s) after its last; majority = the most frequent "
        "training label, persistence = the last observed label.\n"
        "\n"
        "| classifier | accuracy | balanced_accuracy | macro_f1 |\n"
        "|---|---|---|---|\n"
        "| model | 0.7500 | 0.7000 | 0.6875 |\n"
        "| majority | 0.5000 | 0.5000 | 0.3333 |\n"
        "| persistence | 0.6667 | 0.6250 | 0.6000 |\n"
        "\n"
        "Confusion matrix (rows: actual, columns: predicted):\n"
        "\n"
        "| actual | down | up |\n"
        "|---|---|---|\n"
        "| down | 5 | 1 |\n"
        "| up | 2 | 4 |\n"
    )


def test_classify_summary_line_sets_accuracy_beside_both_baselines():
    assert report.summary_line(CLASSIFY) == (
        "test accuracy 0.7500 vs majority 0.5000, persistence 0.6667 over 12 windows, label 3 step(s) ahead")


def _rendered(renderable) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("result, heading, row", [
    (FORECAST, "forecaster", ["naive", "0.5000", "0.4000", "1,234.6", "2,000.0", "1.0000"]),
    (CLASSIFY, "classifier", ["persistence", "0.6667", "0.6250", "0.6000"]),
], ids=["forecast", "classify"])
def test_the_terminal_table_holds_the_same_cells_as_the_markdown(result, heading, row):
    lines = _rendered(report.rich_table(result, "title")).splitlines()
    header = next(line for line in lines if heading in line)
    assert header.replace("┃", " ").split() == [heading, *report.metric_names(result)]
    assert any(line.replace("│", " ").split() == row for line in lines), lines


def test_the_classifier_terminal_table_adds_the_confusion_matrix():
    text = _rendered(report.rich_table(CLASSIFY, "title"))
    assert "confusion matrix (rows: actual, columns: predicted)" in " ".join(text.split())  # the title wraps
    lines = [line.replace("│", " ").split() for line in text.splitlines()]
    assert ["down", "5", "1"] in lines and ["up", "2", "4"] in lines
    assert "confusion matrix" not in _rendered(report.rich_table(FORECAST, "title"))


# The one-line summary and the line that says when a baseline beats the model (exact text).
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
