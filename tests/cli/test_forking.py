"""`--training forking`: it learns, it is saved and read back as such, it refuses what would see the
future, and for both modes evaluate scores exactly the forecast predict gives from each origin."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA
from typer.testing import CliRunner

import forecast_cli
from forecast_cli.cli.app import app
from forecast_cli.evaluate import evaluate

SINE = SAMPLE_DATA / "sine.csv"
OPTIONS = {"window": 20, "horizon": 3, "hidden": 8, "epochs": 15, "batch_size": 64, "device": "cpu", "seed": 0}


def _fit(out, training: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", forecast_cli.ForecastWarning)
        return forecast_cli.fit(str(SINE), target="value", **{**OPTIONS, **options}, training=training, out=out)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One saved model per training mode (the forking one with a short chunk, so it has several)."""
    root = tmp_path_factory.mktemp("forking")
    _fit(root / "windows", "windows", epochs=2)
    _fit(root / "forking", "forking", chunk=60)
    return root


def test_forking_fit_beats_naive_on_sine(saved):
    report = forecast_cli.load(saved / "forking").evaluate()
    assert report["metrics"]["rmse"] < report["baselines"]["naive"]["rmse"]


def test_manifest_round_trips_the_training_mode(saved):
    manifest = forecast_cli.load(saved / "forking").manifest
    assert (manifest.configs.train.training, manifest.configs.train.chunk) == ("forking", 60)
    assert len(manifest.scaler.difference_scale) == 1
    assert manifest.model_spec.differences == (float(manifest.scaler.difference_scale[0]),)
    windows = forecast_cli.load(saved / "windows").manifest
    assert windows.configs.train.training == "windows" and windows.model_spec.differences == ()


@pytest.mark.parametrize("mode", ["windows", "forking"])
@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_evaluate_scores_what_predict_gives_on_the_data_up_to_each_origin(saved, mode, engine):
    model = forecast_cli.load(saved / mode, engine=engine)
    scored = evaluate(model._loaded, None, warn=lambda message: None).backtest
    data = pd.read_csv(SINE)
    for position in (0, len(scored.origins) // 2, len(scored.origins) - 1):
        origin = int(scored.origins[position])
        ahead = model.predict(data.iloc[:origin])
        # float32 rounding only: the highway's matmul over L*F inputs rounds by batch size (1 origin or all)
        np.testing.assert_allclose(ahead["value"].to_numpy(), scored.predicted[position], rtol=1e-6, atol=1e-9)


def test_numpy_engine_forecasts_like_torch_for_a_forking_model(saved):
    by_torch = forecast_cli.load(saved / "forking", engine="torch").predict()
    by_numpy = forecast_cli.load(saved / "forking", engine="numpy").predict()
    np.testing.assert_allclose(by_numpy["value"], by_torch["value"], rtol=0, atol=1e-4)


def test_bidirectional_forking_is_refused_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["fit", str(SINE), "--target", "value", "--training", "forking",
                                      "--bidirectional", "--out", str(tmp_path / "model")])
    assert result.exit_code == 2
    assert result.stderr == ("error: --bidirectional cannot be used with --training forking: the reverse pass "
                             "would see the future of every forecast origin in a chunk; use --training windows.\n")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("option, message", [
    (["--decoder", "seq2seq"], "error: --decoder seq2seq is not supported with --training forking (it would unroll "
                               "the decoder at every origin); use --decoder direct or --training windows.\n"),
    (["--chunk", "20"], "error: --chunk 20 must be more than --window 20: the first --window rows of each chunk "
                        "are its burn-in, which has no loss.\n"),
])
def test_what_forking_cannot_do_is_refused_in_one_line(tmp_path, option, message):
    result = CliRunner().invoke(app, ["fit", str(SINE), "--target", "value", "--training", "forking", "--window", "20",
                                      *option, "--out", str(tmp_path / "model")])
    assert (result.exit_code, result.stderr) == (2, message)
