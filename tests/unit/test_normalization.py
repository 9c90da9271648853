"""Normalization statistics come from the training rows only, through the real `fit` recipe."""

import json

import numpy as np
import pandas as pd

from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.store.manifest import Configs
from forecast_cli.fitting import fit

ROWS, SHIFT = 100, 1000.0


def _level_shift_csv(path):
    """A daily series whose last 30 rows (validation tail and test) jump by SHIFT in every column."""
    rng = np.random.default_rng(1)
    steps = np.arange(ROWS)
    level = 10 + np.sin(steps / 3) + rng.normal(0, 0.1, ROWS)
    other = 5 + np.cos(steps / 5) + rng.normal(0, 0.1, ROWS)
    level[-30:] += SHIFT
    other[-30:] += SHIFT
    dates = pd.date_range("2022-01-01", periods=ROWS, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "level": level, "other": other})
    frame.to_csv(path, index=False)
    return frame


def test_scaler_uses_train_rows_only(tmp_path):
    source = _level_shift_csv(tmp_path / "shift.csv")
    out = tmp_path / "model"
    fit(str(tmp_path / "shift.csv"), Configs(DataConfig(target="level", window=5, calendar="off"), ModelConfig(hidden_size=8),
        TrainConfig(epochs=1, device="cpu")), out, warn=lambda message: None)
    manifest = json.loads((out / "manifest.json").read_text())
    train_rows = manifest["data"]["splits"]["train"]
    assert train_rows <= ROWS - 30, "the shifted rows must lie outside the training part for this test to mean anything"
    values = source[["level", "other"]].to_numpy()
    np.testing.assert_allclose(manifest["scaler"]["mean"], values[:train_rows].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(manifest["scaler"]["scale"], values[:train_rows].std(axis=0), rtol=1e-12)
    assert not np.allclose(manifest["scaler"]["mean"], values.mean(axis=0))
    assert not np.allclose(manifest["scaler"]["scale"], values.std(axis=0))


def test_constant_training_columns_get_one_warning_line(tmp_path):
    """A category seen only after the training part gives an all-zero one-hot column there: scale 1, one line."""
    rows = 80
    frame = pd.DataFrame({
        "date": pd.date_range("2022-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        "level": 10 + np.sin(np.arange(rows) / 3),
        "flat": 7.0,
        "kind": ["a"] * 60 + ["b", "c"] * 10,
    })
    frame.to_csv(tmp_path / "flat.csv", index=False)
    warnings: list[str] = []
    fit(str(tmp_path / "flat.csv"), Configs(DataConfig(target="level", features=("flat", "kind"), window=5,
                                                                   calendar="off"),
        ModelConfig(hidden_size=4), TrainConfig(epochs=1, device="cpu")), tmp_path / "model", warn=warnings.append)
    assert warnings == ["columns 'flat', 'kind=a', 'kind=b', 'kind=c' are constant in the training part; "
                        "passed through unscaled."]
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["scaler"]["scale"][1:] == [1.0, 1.0, 1.0, 1.0]
