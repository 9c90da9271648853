"""Quantile forecasts (--quantiles): the option's rule, the pinball loss, ordered outputs in both
engines, the weights' shapes, the interval scores and the conformal widening."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from forecast_cli.config import ModelConfig, parse_quantiles, quantile_name
from forecast_cli.errors import ConfigError
from forecast_cli.intervals import apply_calibration, fit_calibration
from forecast_cli.metrics import quantile_scores
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.numpy_engine import numpy_forward
from forecast_cli.nn.spec import ModelSpec, expected_shapes
from forecast_cli.nn.train import forecast_losses
from conftest import random_forecaster as _random_model

LEVELS = (0.1, 0.5, 0.9)


def test_pinball_loss_matches_a_hand_computed_example():
    # One window, horizon 2, levels 0.1/0.5/0.9; targets 1 and 3.
    forecast = torch.tensor([[0.0, 1.0, 2.0, 2.0, 3.0, 4.0]])  # step 1: 0, 1, 2; step 2: 2, 3, 4
    target = torch.tensor([[1.0, 3.0]])
    # step 1: errors y-f = 1, 0, -1 -> 0.1*1, 0, (0.9-1)*-1=0.1; step 2: 1, 0, -1 -> 0.1, 0, 0.1
    expected = (0.1 + 0 + 0.1 + 0.1 + 0 + 0.1) / 6
    assert forecast_losses(forecast, target, LEVELS).item() == pytest.approx(expected)
    assert forecast_losses(forecast[:, :2], target, ()).item() == pytest.approx(((0 - 1) ** 2 + (1 - 3) ** 2) / 2)


def test_pinball_loss_weighs_misses_by_the_level():
    target = torch.tensor([[0.0]])
    too_high, too_low = torch.tensor([[1.0]]), torch.tensor([[-1.0]])
    assert forecast_losses(too_high, target, (0.9,)).item() == pytest.approx(0.1)  # (0.9 - 1) * (0 - 1)
    assert forecast_losses(too_low, target, (0.9,)).item() == pytest.approx(0.9)


@pytest.mark.parametrize("text, levels", [("0.1,0.5,0.9", LEVELS), ("0.9, 0.1", LEVELS),
                                         ("0.025,0.975", (0.025, 0.5, 0.975))])
def test_quantiles_are_sorted_and_the_median_always_included(text, levels):
    assert parse_quantiles(text) == levels
    assert parse_quantiles([0.9, 0.1]) == LEVELS


@pytest.mark.parametrize("text, message", [
    ("0,0.5", "--quantiles 0,0.5: 0.0 is not between 0 and 1 (exclusive); use levels such as 0.1,0.5,0.9."),
    ("0.1,1.5", "--quantiles 0.1,1.5: 1.5 is not between 0 and 1 (exclusive); use levels such as 0.1,0.5,0.9."),
    ("0.1,0.1,0.9", "--quantiles 0.1,0.1,0.9: 0.1 is given twice (or is not above 0.1); give each level once, "
                    "in increasing order."),
    ("0.1,abc", "--quantiles '0.1,abc': write levels between 0 and 1 separated by commas, e.g. --quantiles "
                "0.1,0.5,0.9."),
    (",", "--quantiles is empty: give levels between 0 and 1, e.g. --quantiles 0.1,0.5,0.9."),
    (",".join(str(i / 100) for i in range(1, 30)), "--quantiles gives 29 levels, more than the 20 this tool "
                                                   "supports; give fewer."),
    ("nan,0.5", "--quantiles nan,0.5: nan is not between 0 and 1 (exclusive); use levels such as 0.1,0.5,0.9."),
])
def test_bad_quantiles_are_refused_in_one_line(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_quantiles(text)
    assert str(caught.value) == message


def test_quantile_names_follow_the_percentage_rule():
    assert [quantile_name(q) for q in (0.1, 0.5, 0.9, 0.025, 0.975, 0.999)] == \
        ["p10", "p50", "p90", "p2.5", "p97.5", "p99.9"]


def test_a_config_without_the_median_is_refused():
    with pytest.raises(ConfigError, match="lacks 0.5, the median, which is the point forecast"):
        ModelConfig(quantiles=(0.1, 0.9)).validate()


CASES = {"lstm_direct": {}, "gru_direct": {"cell": "gru"}, "seq2seq": {"decoder": "seq2seq"},
         "bidirectional_seq2seq": {"decoder": "seq2seq", "bidirectional": True}, "linear": {"cell": "linear"}}


@pytest.mark.parametrize("relative", [0, 2], ids=["global_norm", "window_norm"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_quantile_outputs_are_ordered_and_both_engines_agree(case, relative):
    spec = ModelSpec(n_features=3, horizon=4, hidden_size=6, relative=relative, window=7, quantiles=LEVELS,
                     **CASES[case])
    model = _random_model(spec)
    assert {name: tuple(t.shape) for name, t in model.state_dict().items()} == expected_shapes(spec)
    windows = np.random.default_rng(1).normal(size=(5, 7, 3)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    assert expected.shape == (5, 4 * 3)
    steps = expected.reshape(5, 4, 3)
    assert (np.diff(steps, axis=2) >= 0).all()
    weights = {name: tensor.detach().numpy().copy() for name, tensor in model.state_dict().items()}
    np.testing.assert_allclose(numpy_forward(spec, weights)(windows), expected, rtol=0, atol=1e-5)


def test_a_fresh_relative_quantile_model_forecasts_the_naive_value_at_every_level():
    spec = ModelSpec(n_features=2, horizon=3, hidden_size=4, relative=2, quantiles=LEVELS)
    windows = torch.randn(4, 6, 2)
    forecast = Forecaster(spec)(windows).detach().reshape(4, 3, 3)
    torch.testing.assert_close(forecast, windows[:, -1, :1, None].expand(4, 3, 3))


def test_forking_chunks_give_ordered_quantiles_equal_to_the_window_forward():
    spec = ModelSpec(n_features=2, horizon=2, hidden_size=5, relative=0, quantiles=LEVELS)
    model = _random_model(spec)
    chunk = torch.randn(1, 9, 2)
    with torch.no_grad():
        forked = model.forward_chunk(chunk, burn_in=4)  # (1, 6, H*Q)
        single = model(chunk[:, :6])  # the origin after row 5
    torch.testing.assert_close(forked[0, 2], single[0])
    assert (forked.reshape(1, 6, 2, 3).diff(dim=3) >= 0).all()


def test_point_models_keep_their_shapes():
    spec = ModelSpec(n_features=2, horizon=3, hidden_size=4, decoder="seq2seq")
    assert expected_shapes(spec)["decoder.out.weight"] == (1, 4)
    assert spec.outputs == 3 and spec.linear().quantiles == ()
    with_levels = ModelSpec(n_features=2, horizon=3, hidden_size=4, quantiles=LEVELS)
    assert with_levels.outputs == 9 and with_levels.linear().outputs == 3


def test_interval_scores_count_coverage_and_pinball():
    levels = np.array([[[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]])  # (N=4, H=1, Q=3)
    actual = np.array([[1.0], [3.0], [-1.0], [2.0]])
    scores, intervals = quantile_scores(levels, actual, LEVELS, ["p10", "p50", "p90"])
    assert intervals == [{"lower": 0.1, "upper": 0.9, "nominal": 0.8, "coverage": 0.5, "mean_width": 2.0}]
    assert scores["p50"]["pinball"] == pytest.approx((0 + 1 + 1 + 0.5) / 4 * 1)  # 0.5 * |error|: 0, 2, 2, 1
    assert scores["p10"]["below"] == pytest.approx(0.25)  # only -1 lies under 0


def test_calibration_widens_a_narrow_interval_to_its_nominal_share_and_never_narrows():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(400, 2))
    narrow = np.stack([np.full((400, 2), -0.1), np.zeros((400, 2)), np.full((400, 2), 0.1)], axis=2)
    calibration = fit_calibration(narrow, actual, LEVELS, "validation")
    widened = apply_calibration(narrow, calibration, LEVELS, point=1)
    inside = (widened[:, :, 0] <= actual) & (actual <= widened[:, :, 2])
    assert inside.mean() == pytest.approx(0.8, abs=0.01)
    np.testing.assert_array_equal(widened[:, :, 1], narrow[:, :, 1])  # the point forecast is unchanged
    wide = narrow * 100
    assert fit_calibration(wide, actual, LEVELS, "validation").offsets == [[0.0], [0.0]]


def test_levels_start_at_the_training_part_residual_quantiles():
    from forecast_cli.nn.train import TrainingData, WindowSource, start_levels

    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(size=600)).astype(np.float32)
    data = TrainingData(series[:, None], series, np.arange(8, 598), np.arange(0), window=8, horizon=2,
                        quantiles=LEVELS)
    model = Forecaster(ModelSpec(n_features=1, horizon=2, hidden_size=4, relative=1, quantiles=LEVELS))
    start_levels(model, data)
    x, y = WindowSource(data, data.train_origins, torch.device("cpu")).batch(torch.from_numpy(data.train_origins))
    with torch.no_grad():
        levels = model(x).reshape(-1, 2, 3)
    below = (y.unsqueeze(-1) <= levels).float().mean(dim=0)  # (H, Q): share of targets under each level
    torch.testing.assert_close(below, torch.tensor([LEVELS, LEVELS]), atol=0.01, rtol=0)
