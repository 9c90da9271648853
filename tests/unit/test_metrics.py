"""metrics.py and baselines.py on arrays small enough to compute by hand."""

import numpy as np
import pytest

from forecast_cli.baselines import naive, seasonal_naive
from forecast_cli.metrics import METRICS, naive_scale, score, score_per_step

# errors |p - a|: 1, 1, 2, 0; the zero target (row 0, step 2) is left out of mape only.
ACTUAL = np.array([[2.0, 0.0], [4.0, 5.0]])
PREDICTED = np.array([[3.0, 1.0], [2.0, 5.0]])


def test_metrics_match_hand_computed_values():
    scores = score(PREDICTED, ACTUAL, mase_scale=0.5)
    assert set(scores) == set(METRICS)
    assert scores["mae"] == pytest.approx(1.0)
    assert scores["rmse"] == pytest.approx(np.sqrt(6 / 4))
    assert scores["mape"] == pytest.approx((1 / 2 + 2 / 4 + 0 / 5) / 3)  # y = 0 excluded
    assert scores["smape"] == pytest.approx((2 / 5 + 2 / 1 + 4 / 6 + 0) / 4)
    assert scores["mase"] == pytest.approx(1.0 / 0.5)


def test_mape_is_a_fraction_not_a_percentage():
    assert score(np.array([[110.0]]), np.array([[100.0]]), 1.0)["mape"] == pytest.approx(0.10)


def test_undefined_metrics_are_none():
    scores = score(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]), mase_scale=0.0)
    assert scores["mape"] is None and scores["mase"] is None
    assert scores["mae"] == pytest.approx(1.5)


def test_non_finite_points_are_left_out():
    scores = score(np.array([[np.nan, 3.0]]), np.array([[1.0, 2.0]]), 1.0)
    assert scores["mae"] == pytest.approx(1.0) and scores["mape"] == pytest.approx(0.5)


def test_score_per_step_scores_each_column():
    steps = score_per_step(PREDICTED, ACTUAL, mase_scale=0.5)
    assert [s["step"] for s in steps] == [1, 2]
    assert steps[0]["mae"] == pytest.approx(1.5) and steps[0]["mape"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert steps[1]["mae"] == pytest.approx(0.5) and steps[1]["mape"] == pytest.approx(0.0)


def test_mase_scale_is_the_in_sample_one_step_naive_mae():
    assert naive_scale(np.array([1.0, 3.0, 2.0, 2.0])) == pytest.approx((2 + 1 + 0) / 3)
    assert naive_scale(np.array([5.0])) == 0.0


TARGET = np.array([5.0, 1.0, 4.0, 2.0, 8.0, 7.0, 3.0, 6.0])


def test_naive_repeats_the_last_observed_value():
    np.testing.assert_array_equal(naive(TARGET, np.array([4, 5]), 3), [[2, 2, 2], [8, 8, 8]])


def test_seasonal_naive_repeats_the_value_one_season_earlier():
    # season 2, origin 4: steps 4, 5, 6 take rows 2, 3, 2 (the last full season before the origin)
    np.testing.assert_array_equal(seasonal_naive(TARGET, np.array([4, 5]), 3, 2), [[4, 2, 4], [2, 8, 2]])
    np.testing.assert_array_equal(seasonal_naive(TARGET, np.array([3]), 3, 3), [[5, 1, 4]])


def test_seasonal_naive_is_nan_before_the_first_season():
    np.testing.assert_array_equal(seasonal_naive(TARGET, np.array([1]), 3, 3), [[np.nan, np.nan, 5.0]])


def test_fail_above_on_an_undefined_metric_is_an_error_not_a_silent_pass():
    from forecast_cli.errors import ConfigError
    from forecast_cli.evaluate import check_thresholds

    result = {"metrics": {"mape": None, "mae": 1.0}}
    with pytest.raises(ConfigError, match="mape is undefined on this data"):
        check_thresholds(result, {"mape": 0.05})
    check_thresholds(result, {"mae": 2.0})  # a defined metric within its limit passes
