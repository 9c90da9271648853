"""--id-embedding N: a global many-series model learns N values per series, read from each window's
series code (its position in series.safetensors); every path that feeds the model (training, the
batched forecasts ahead, the per-series backtests, both engines) gives it the same code."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import (LONG_SERIES as SERIES, assert_batched_forecasts_are_each_series_own, make_long_frame,
                      run_cli)

TINY = ["--epochs", "2", "--hidden", "4", "--window", "7", "--quiet", "--id-col", "store", "--target", "sales"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("embed")
    csv = folder / "long.csv"
    make_long_frame().to_csv(csv, index=False, date_format="%Y-%m-%d")
    model = folder / "model"
    result = run_cli("fit", csv, "--model", model, "--id-embedding", "2", *TINY)
    assert result.exit_code == 0, result.output
    return csv, model


def test_fit_saves_one_embedding_row_per_series(fitted):
    _, model = fitted
    from safetensors.numpy import load_file

    weights = load_file(model / "model.safetensors")
    assert weights["embedding.weight"].shape == (len(SERIES), 2)
    assert not any(name.startswith("baseline.linear.embedding") for name in weights)  # the baseline has none
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["config"]["model"]["id_embedding"] == 2


def test_evaluate_forecasts_of_each_series_equal_predicts_batched_ones(fitted):
    """predict runs every series' last window in one batch (codes appended there); evaluate and plot
    go through one predictor per series (codes appended by its scaler): the same numbers."""
    csv, model = fitted
    assert_batched_forecasts_are_each_series_own(csv, model)


def test_each_series_forecast_depends_on_its_own_embedding(fitted):
    """The same window read as series a and as series b: the embedding alone makes them differ."""
    import forecast_cli

    _, model = fitted
    inner = forecast_cli.load(model, warn=lambda message: None)._loaded
    window = np.zeros((2, inner.manifest.window, inner.manifest.model_spec.n_features + 1), dtype=np.float32)
    window[1, :, -1] = 1.0  # the second copy carries series 1's code
    outputs = inner.predictor.forward(window)
    assert not np.allclose(outputs[0], outputs[1])


def test_predict_and_evaluate_agree_across_engines(fitted):
    csv, model = fitted
    torch_run = run_cli("predict", "--model", model)
    numpy_run = run_cli("predict", "--model", model, "--engine", "numpy")
    assert torch_run.exit_code == 0 and numpy_run.exit_code == 0, torch_run.stderr + numpy_run.stderr
    first, second = pd.read_csv(StringIO(torch_run.stdout)), pd.read_csv(StringIO(numpy_run.stdout))
    assert sorted(first["store"].unique()) == list(SERIES)
    np.testing.assert_allclose(first["sales"], second["sales"], rtol=1e-5)
    scored = [run_cli("evaluate", csv, "--model", model, "--json", "--engine", engine) for engine in ("torch", "numpy")]
    assert all(result.exit_code == 0 for result in scored), scored[0].stderr + scored[1].stderr
    torch_json, numpy_json = (json.loads(result.stdout) for result in scored)
    assert set(torch_json["series"]) == set(SERIES)
    for store in SERIES:
        assert torch_json["series"][store]["metrics"]["mae"] == pytest.approx(
            numpy_json["series"][store]["metrics"]["mae"], rel=1e-5)


def test_a_linear_cell_embeds_too_and_both_engines_agree(tmp_path):
    csv = tmp_path / "long.csv"
    make_long_frame().to_csv(csv, index=False, date_format="%Y-%m-%d")
    model = tmp_path / "model"
    assert run_cli("fit", csv, "--model", model, "--id-embedding", "3", "--cell", "linear", *TINY).exit_code == 0
    from safetensors.numpy import load_file

    weights = load_file(model / "model.safetensors")
    assert weights["embedding.weight"].shape == (len(SERIES), 3)
    outputs = [run_cli("predict", "--model", model, "--engine", engine) for engine in ("torch", "numpy")]
    assert all(result.exit_code == 0 for result in outputs)
    np.testing.assert_allclose(*(pd.read_csv(StringIO(result.stdout))["sales"] for result in outputs), rtol=1e-5)


@pytest.mark.parametrize("options, message", [
    (["--id-embedding", "2", "--target", "sales", "--epochs", "1"], "--id-embedding 2 learns one vector per series"),
    (["--id-embedding", "2", "--target", "sales", "--id-col", "store", "--training", "forking"],
     "--id-embedding 2 is not supported with --training forking"),
    (["--id-embedding", "-1", "--target", "sales", "--id-col", "store"], "--id-embedding must be 0"),
])
def test_incompatible_options_are_refused_in_one_line(tmp_path, options, message):
    csv = tmp_path / "long.csv"
    make_long_frame().to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = run_cli("fit", csv, "--model", tmp_path / "model", *options)
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "model").exists()


def test_python_api_takes_id_embedding():
    import forecast_cli

    model = forecast_cli.fit(make_long_frame(), target="sales", id_col="store", id_embedding=2, window=7, hidden=4,
                             epochs=1, warn=lambda message: None)
    assert model._loaded.manifest.model_spec.n_series == len(SERIES)
    assert sorted(model.predict()["store"].unique()) == list(SERIES)
