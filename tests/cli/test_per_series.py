"""`fit --id-col COL --per-series`: one small model per series, trained through joblib, saved under
`series.<position>.` in model.safetensors, and each series forecast and scored by its own model."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import LONG_SERIES, make_long_frame, run_cli

TINY = ["--epochs", "2", "--hidden", "4", "--window", "7", "--quiet"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("per-series")
    csv = folder / "long.csv"
    make_long_frame().to_csv(csv, index=False, date_format="%Y-%m-%d")
    model = folder / "model"
    result = run_cli("fit", csv, "--target", "sales", "--id-col", "store", "--per-series", "--model", model, *TINY)
    assert result.exit_code == 0, result.stderr
    return csv, model


def test_each_series_gets_its_own_model_of_the_same_shape(fitted):
    from safetensors.numpy import load_file

    _, model = fitted
    weights = load_file(model / "model.safetensors")
    positions = sorted({int(name.split(".")[1]) for name in weights})
    assert positions == list(range(len(LONG_SERIES)))
    assert not any(name.startswith("baseline.") for name in weights)  # no linear baseline per series
    first, second = weights["series.0.encoder.weight_ih_l0"], weights["series.1.encoder.weight_ih_l0"]
    assert first.shape == second.shape and not np.allclose(first, second)


def test_forecasts_come_from_each_series_own_model_on_both_engines(fitted):
    _, model = fitted
    torch_run = run_cli("predict", "--model", model)
    numpy_run = run_cli("predict", "--model", model, "--engine", "numpy")
    assert torch_run.exit_code == 0 and numpy_run.exit_code == 0, torch_run.stderr + numpy_run.stderr
    torch_table, numpy_table = (pd.read_csv(StringIO(r.stdout)) for r in (torch_run, numpy_run))
    assert sorted(torch_table["store"]) == list(LONG_SERIES)
    np.testing.assert_allclose(torch_table["sales"], numpy_table["sales"], rtol=1e-5)


def test_evaluate_scores_each_series_with_its_model(fitted):
    import forecast_cli
    from forecast_cli.data.io import read_source
    from forecast_cli.data.panel import rebuild_panel
    from forecast_cli.evaluate import series_origins
    from forecast_cli.predictors import ValuePredictor

    csv, model = fitted
    loaded = forecast_cli.load(model, warn=lambda message: None)
    report = loaded.evaluate()
    inner = loaded._loaded
    manifest = inner.manifest
    panel = rebuild_panel(read_source(str(csv)).raw, "long.csv", manifest.frame, ("store",),
                          manifest.configs.data.calendar, manifest.horizon)
    origins = series_origins(panel, inner, True)
    position = inner.series.position()
    for store, frame, starts in zip(panel.ids, panel.frames, origins):
        own = ValuePredictor(inner.series_forwards[position[store]], inner.series.scaler(position[store]),
                             manifest.window, manifest.horizon)
        expected = own.backtest(frame, starts, manifest.season, float(inner.series.mase_scale[position[store]]))
        assert report["series"][store]["metrics"]["mase"] == pytest.approx(expected.result["metrics"]["mase"])


def test_two_workers_train_the_same_models_as_one(fitted, tmp_path):
    from safetensors.numpy import load_file

    csv, model = fitted
    again = tmp_path / "two"
    result = run_cli("fit", csv, "--target", "sales", "--id-col", "store", "--per-series", "--n-jobs", "2",
                     "--backend", "threading", "--model", again, *TINY)
    assert result.exit_code == 0, result.stderr
    one, two = load_file(model / "model.safetensors"), load_file(again / "model.safetensors")
    assert one.keys() == two.keys()
    for name in one:
        np.testing.assert_allclose(one[name], two[name], rtol=1e-6, atol=1e-7)


def test_per_series_needs_an_id_column(tmp_path):
    csv = tmp_path / "one.csv"
    make_long_frame().query("store == 'a'").drop(columns="store").to_csv(csv, index=False)
    result = run_cli("fit", csv, "--target", "sales", "--per-series", "--model", tmp_path / "m", *TINY)
    assert result.exit_code != 0 and "--id-col" in result.stderr and "Traceback" not in result.stderr
