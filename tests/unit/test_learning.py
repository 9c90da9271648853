"""An LSTM and a GRU each learn the bundled sine file to a test error below the naive baseline's.

With `--norm window` a fresh model IS the naive forecast, so beating naive needs training to work:
the loop must update, keep the best epoch's weights, and the report must score the trained model.
"""

import json

import pytest
from conftest import SAMPLE_DATA

from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.store.manifest import Configs
from forecast_cli.fitting import fit


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_model_learns_sine_better_than_naive(cell, tmp_path):
    out = tmp_path / cell
    outcome = fit(str(SAMPLE_DATA / "sine.csv"), Configs(DataConfig(target="value"), ModelConfig(cell=cell, hidden_size=16),
                  TrainConfig(epochs=20, device="cpu", seed=0)), out, warn=lambda message: None)
    report = json.loads((out / "report.json").read_text())
    assert report == outcome.report
    model, naive = report["metrics"]["mape"], report["baselines"]["naive"]["mape"]
    assert model < naive, f"{cell}: test mape {model:.4f} is not below naive {naive:.4f}"
