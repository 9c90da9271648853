"""The season-aware recipe: --norm seasonal starts at seasonal naive in both engines, the season is
detected on the training part, and --norm auto / --window auto are resolved and recorded."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_cli

import forecast_cli
from forecast_cli.config import (DataConfig, ModelConfig, TrainConfig, check_task_fits_model, check_training_fits,
                                 learning_rate)
from forecast_cli.data.recipe import resolve
from forecast_cli.data.season import detect_season
from forecast_cli.errors import ConfigError
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.numpy_engine import numpy_forward
from forecast_cli.nn.spec import ModelSpec, seasonal_offsets
from forecast_cli.nn.train import TrainProgress, on_plateau
from forecast_cli.store.manifest import Manifest


def _monthly(rows: int, seed: int = 0) -> pd.DataFrame:
    steps = np.arange(rows)
    noise = np.random.default_rng(seed).normal(0, 0.5, rows)
    return pd.DataFrame({"month": pd.date_range("2000-01-01", periods=rows, freq="MS"),
                         "sales": 100 + 0.2 * steps + 10 * np.sin(2 * np.pi * steps / 12) + noise})


def test_seasonal_offsets_point_one_season_before_each_step():
    assert seasonal_offsets(5, 2) == [-2, -1, -2, -1, -2]  # the last observed row of each step's phase


@pytest.mark.parametrize("cell", ["lstm", "linear"])
def test_untrained_seasonal_model_is_exactly_seasonal_naive(cell):
    spec = ModelSpec(n_features=2, horizon=5, cell=cell, hidden_size=4, relative=1, window=6, season=3)
    windows = torch.from_numpy(np.random.default_rng(0).normal(size=(4, 6, 2)).astype(np.float32))
    with torch.no_grad():
        forecast = Forecaster(spec)(windows)
    expected = windows[:, [3, 4, 5, 3, 4], 0]  # the values 3 rows (one season) before each target
    assert torch.equal(forecast, expected)


@pytest.mark.parametrize("cell", ["gru", "linear"])
def test_numpy_engine_matches_torch_with_seasonal_norm(cell):
    spec = ModelSpec(n_features=2, horizon=7, cell=cell, hidden_size=4, relative=2, window=8, season=4)
    torch.manual_seed(0)
    model = Forecaster(spec).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.4)
    windows = np.random.default_rng(1).normal(size=(3, 8, 2)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    weights = {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}
    np.testing.assert_allclose(numpy_forward(spec, weights)(windows), expected, rtol=0, atol=1e-5)


def test_season_is_confirmed_on_a_cycle_and_not_on_a_random_walk():
    assert detect_season(_monthly(120)["sales"].to_numpy(), "MS").season == 12
    walk = 100 + np.cumsum(np.random.default_rng(0).normal(size=800))
    finding = detect_season(walk, "D")
    assert finding.season is None and set(finding.candidates) == {7, 365}


def test_norm_auto_picks_seasonal_where_seasonal_naive_wins_on_validation():
    recipe = resolve(DataConfig(target="sales"), _monthly(120)["sales"].to_numpy(), "MS")
    assert (recipe.data.norm, recipe.data.season, recipe.data.window) == ("seasonal", 12, 24)
    assert recipe.choices["norm"]["mase"]["seasonal_naive"] < recipe.choices["norm"]["mase"]["naive"]


def test_season_none_keeps_the_window_norm_and_no_seasonal_baseline():
    recipe = resolve(DataConfig(target="sales", season=0), _monthly(120)["sales"].to_numpy(), "MS")
    assert (recipe.data.norm, recipe.baseline_season, recipe.data.window) == ("window", None, 20)


def test_seasonal_norm_needs_a_window_of_a_season():
    with pytest.raises(ConfigError, match="--window 6 must be at least --season 12"):
        DataConfig(target="sales", norm="seasonal", season=12, window=6).validate()


def test_thirty_six_monthly_points_fit_at_horizon_twelve(tmp_path):
    model = forecast_cli.fit(_monthly(36), target="sales", horizon=12, epochs=2, hidden=4, warn=lambda m: None,
                             out=tmp_path / "m")
    manifest = model.manifest
    assert manifest.configs.data.val_frac == 0.0 and manifest.choices["val_frac"]["chosen"] == 0.0
    assert manifest.configs.data.window >= 1 and model.report["windows"] >= 1
    assert forecast_cli.load(tmp_path / "m").manifest.configs == manifest.configs


def test_manifest_without_choices_and_with_old_defaults_still_loads(fitted, tmp_path):
    raw = json.loads((fitted.model_dir / "manifest.json").read_text())
    raw.pop("choices", None)
    raw["config"]["data"].update(norm="window", season=None, window=fitted.window)
    del raw["config"]["train"]["lr_schedule"], raw["config"]["model"]["highway"]
    manifest = Manifest.from_json(raw, tmp_path / "manifest.json")
    assert manifest.choices == {} and manifest.model_spec.season == 0 and not manifest.model_spec.highway
    assert manifest.configs.train.lr_schedule == "constant"  # what models saved before the option trained with


def test_cosine_schedule_falls_from_lr_to_a_tenth():
    config = TrainConfig(lr=1.0, epochs=3, lr_schedule="cosine")
    assert [round(learning_rate(config, epoch), 6) for epoch in (1, 2, 3)] == [1.0, 0.55, 0.1]


def test_plateau_schedule_halves_the_rate_after_every_five_stale_epochs():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    config = TrainConfig(lr=1.0)
    rates = []
    for stale in range(1, 12):
        on_plateau(optimizer, config, TrainProgress(stale=stale))
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates == [1.0] * 4 + [0.5] * 5 + [0.25] * 2


def test_fit_says_the_norm_it_chose_in_one_line(tmp_path):
    path = tmp_path / "monthly.csv"
    _monthly(96).to_csv(path, index=False)
    result = run_cli("fit", path, "--target", "sales", "--epochs", "1", "--hidden", "4", "-m", tmp_path / "m")
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("norm: "))
    assert re.fullmatch(r"norm: (seasonal \(season 12; lower validation loss after training, \S+ vs \S+ under window\)"
                        r"|window \(lower validation loss after training, \S+ vs \S+ under seasonal\)); window 24 "
                        r"\(two seasons of 12\)", line), line


def test_norm_auto_keeps_the_norm_with_the_lower_validation_loss_and_it_is_that_norms_fit(tmp_path):
    frame = _monthly(120, seed=3)
    options = dict(target="sales", epochs=3, hidden=4, seed=5)
    said = []
    auto = forecast_cli.fit(frame, warn=said.append, **options)
    record = auto.manifest.choices["norm"]
    losses = record["validation_loss"]
    assert set(losses) == {"window", "seasonal"}
    assert record["chosen"] == min(losses, key=losses.get) == auto.manifest.configs.data.norm
    assert any("training under --norm" in line for line in said)
    given_said = []
    given = forecast_cli.fit(frame, norm=record["chosen"], warn=given_said.append, **options)  # one training
    assert not any("training under --norm" in line for line in given_said)
    pd.testing.assert_frame_equal(auto.predict(frame), given.predict(frame))
    assert auto.report["metrics"] == given.report["metrics"]
    assert auto.report["baselines"] == given.report["baselines"]


def test_norm_auto_trains_once_without_a_season(tmp_path):
    frame = pd.DataFrame({"day": pd.date_range("2000-01-01", periods=120, freq="D"),
                          "y": np.cumsum(np.random.default_rng(1).normal(size=120))})
    said = []
    model = forecast_cli.fit(frame, target="y", epochs=2, hidden=4, season="none", warn=said.append)
    assert "validation_loss" not in model.manifest.choices["norm"]
    assert not any("training under --norm" in line for line in said)


@pytest.mark.parametrize("model, train, needle", [
    (ModelConfig(decoder="seq2seq"), TrainConfig(), "--norm seasonal is not supported with --decoder seq2seq"),
    (ModelConfig(), TrainConfig(training="forking"), "--norm seasonal is not supported with --training forking"),
])
def test_seasonal_norm_is_refused_where_it_cannot_work(model, train, needle):
    data = DataConfig(target="sales", norm="seasonal", season=12)
    with pytest.raises(ConfigError, match=needle):
        check_task_fits_model(data, model)
        check_training_fits(data, model, train)


def test_highway_starts_at_zero_and_matches_the_numpy_engine():
    spec = ModelSpec(n_features=2, horizon=3, cell="lstm", hidden_size=4, relative=2, window=5, season=2, highway=True)
    windows = np.random.default_rng(2).normal(size=(4, 5, 2)).astype(np.float32)
    model = Forecaster(spec).eval()
    with torch.no_grad():
        assert torch.equal(model(torch.from_numpy(windows)), torch.from_numpy(windows)[:, [3, 4, 3], 0])
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.4)
        expected = model(torch.from_numpy(windows)).numpy()
    weights = {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}
    np.testing.assert_allclose(numpy_forward(spec, weights)(windows), expected, rtol=0, atol=1e-5)
