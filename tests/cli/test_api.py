"""The public Python API (`forecast_cli.fit`, `load`, `Model`) is what the CLI calls: same options,
same defaults, same errors, same model directory, identical forecasts."""

import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET, TINY_WINDOW, make_tiny_frame
from typer.testing import CliRunner

import forecast_cli
from forecast_cli.cli.app import app
from forecast_cli.errors import ConfigError, DataError

pytestmark = pytest.mark.filterwarnings("ignore::forecast_cli.api.ForecastWarning")
OPTIONS = {"window": TINY_WINDOW, "horizon": TINY_HORIZON, "hidden": 8, "epochs": 3, "batch_size": 32,
           "device": "cpu", "seed": 0}
CLI_OPTIONS = ["--window", str(TINY_WINDOW), "--horizon", str(TINY_HORIZON), "--hidden", "8", "--epochs", "3",
               "--batch-size", "32", "--device", "cpu", "--seed", "0"]


def _cli(args):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def api_model(tiny_csv):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", forecast_cli.ForecastWarning)
        return forecast_cli.fit(str(tiny_csv), target=TINY_TARGET, **OPTIONS)


def test_api_and_cli_give_identical_forecasts_for_the_same_options_and_seed(api_model, tiny_csv, tmp_path):
    _cli(["fit", tiny_csv, "--target", TINY_TARGET, *CLI_OPTIONS, "--out", tmp_path / "cli_model", "--quiet"])
    from_cli = pd.read_csv(io.StringIO(_cli(["predict", "--model", tmp_path / "cli_model"]).stdout))
    from_api = api_model.predict()
    assert list(from_api.columns) == ["timestamp", "step", TINY_TARGET] == list(from_cli.columns)
    assert list(from_api["timestamp"]) == list(from_cli["timestamp"])
    np.testing.assert_allclose(from_api[TINY_TARGET], from_cli[TINY_TARGET], rtol=1e-7)


def test_evaluate_returns_exactly_what_evaluate_json_prints(api_model, tmp_path):
    api_model.save(tmp_path / "saved")
    printed = json.loads(_cli(["evaluate", "--model", tmp_path / "saved", "--json", "--quiet"]).stdout)
    assert api_model.evaluate() == printed


def test_a_saved_model_predicts_the_same_through_forecast_predict(api_model, tmp_path):
    saved = api_model.save(tmp_path / "saved")
    assert {path.name for path in saved.iterdir()} == {"manifest.json", "model.safetensors", "history.csv",
                                                       "report.json", "report.md"}
    printed = pd.read_csv(io.StringIO(_cli(["predict", "--model", saved]).stdout))
    np.testing.assert_allclose(printed[TINY_TARGET], api_model.predict()[TINY_TARGET], rtol=1e-7)
    reloaded = forecast_cli.load(saved)
    np.testing.assert_allclose(reloaded.predict()[TINY_TARGET], api_model.predict()[TINY_TARGET], rtol=1e-7)
    np.testing.assert_allclose(forecast_cli.load(saved, engine="numpy").predict()[TINY_TARGET],
                               api_model.predict()[TINY_TARGET], atol=1e-5)


def test_fit_on_a_dataframe_uses_it_as_the_default_data(tiny_csv):
    frame = pd.read_csv(tiny_csv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = forecast_cli.fit(frame, target=TINY_TARGET, **OPTIONS)
    assert any(issubclass(w.category, forecast_cli.ForecastWarning) and "dropped 1 leading row" in str(w.message)
               for w in caught)
    assert model.manifest.data.path is None
    from_frame = model.predict()
    assert len(from_frame) == TINY_HORIZON and from_frame["timestamp"].iloc[0] == "2021-05-04"
    np.testing.assert_allclose(model.predict(frame)[TINY_TARGET], from_frame[TINY_TARGET])
    with_index = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date")
    np.testing.assert_allclose(model.predict(with_index)[TINY_TARGET], from_frame[TINY_TARGET], rtol=1e-7)


def test_a_model_fitted_on_a_dataframe_and_saved_asks_for_data(tiny_csv, tmp_path):
    model = forecast_cli.fit(pd.read_csv(tiny_csv), target=TINY_TARGET, warn=lambda note: None, **OPTIONS)
    model.save(tmp_path / "m")
    with pytest.raises(DataError, match="fitted on stdin or a DataFrame, so no data file is recorded"):
        forecast_cli.load(tmp_path / "m").predict()
    later = make_tiny_frame(rows=150)
    assert len(forecast_cli.load(tmp_path / "m").predict(later)) == TINY_HORIZON


def test_a_bad_option_raises_the_clis_one_line_as_a_typed_error(tiny_csv):
    with pytest.raises(ConfigError) as caught:
        forecast_cli.fit(str(tiny_csv), target=TINY_TARGET, window=0)
    cli = CliRunner().invoke(app, ["fit", str(tiny_csv), "--target", TINY_TARGET, "--window", "0"])
    assert cli.exit_code == 2
    assert cli.stderr.strip() == f"error: {caught.value}"


def test_import_forecast_cli_exports_the_api_lazily():
    assert {"fit", "load", "Model"} <= set(forecast_cli.__all__)
    assert callable(forecast_cli.fit) and callable(forecast_cli.load) and isinstance(forecast_cli.Model, type)
    with pytest.raises(AttributeError):
        forecast_cli.no_such_name  # noqa: B018
