"""`fit --quantiles`: predict's per-level columns, evaluate's quantile and interval scores, the same
numbers through the Python API and both engines, the plot's band, and the option's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecast_cli
from conftest import make_tiny_frame, run_cli
from forecast_cli.evaluate import evaluate

TINY = ["--epochs", "2", "--hidden", "4", "--window", "6", "--horizon", "2", "--quiet"]
COLUMNS = ["timestamp", "step", "sales", "sales_p10", "sales_p50", "sales_p90"]


@pytest.fixture(scope="module")
def quantile_model(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("quantiles")
    csv = folder / "tiny.csv"
    make_tiny_frame().to_csv(csv, index=False)
    result = run_cli("fit", csv, "--target", "sales", "--quantiles", "0.9,0.1,0.5", "--out", folder / "model", *TINY)
    assert result.exit_code == 0, result.stderr
    return csv, folder / "model"


def test_predict_adds_a_column_per_quantile_with_the_median_as_the_point(quantile_model):
    csv, model = quantile_model
    result = run_cli("predict", csv, "--model", model, "--quiet")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert list(table.columns) == COLUMNS
    np.testing.assert_array_equal(table["sales"], table["sales_p50"])
    assert (table["sales_p10"] <= table["sales_p50"]).all() and (table["sales_p50"] <= table["sales_p90"]).all()


def test_predict_json_and_the_api_give_the_same_columns(quantile_model):
    csv, model = quantile_model
    result = run_cli("predict", csv, "--model", model, "--format", "json", "--quiet")
    payload = json.loads(result.stdout)
    assert payload["target"] == "sales" and payload["quantiles"] == {"p10": 0.1, "p50": 0.5, "p90": 0.9}
    assert list(payload["forecast"][0]) == COLUMNS
    api = forecast_cli.load(model).predict(str(csv))
    assert list(api.columns) == COLUMNS
    np.testing.assert_allclose(api["sales_p90"], [row["sales_p90"] for row in payload["forecast"]])


def test_numpy_engine_gives_the_torch_quantiles(quantile_model):
    csv, model = quantile_model
    torch_table = forecast_cli.load(model).predict(str(csv))
    numpy_table = forecast_cli.load(model, engine="numpy").predict(str(csv))
    np.testing.assert_allclose(numpy_table[COLUMNS[2:]], torch_table[COLUMNS[2:]], rtol=1e-6)


def test_evaluate_json_reports_pinball_per_quantile_and_interval_coverage(quantile_model):
    csv, model = quantile_model
    result = run_cli("evaluate", csv, "--model", model, "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)
    assert set(scores["quantiles"]) == {"p10", "p50", "p90"}
    assert all(isinstance(entry["pinball"], float) for entry in scores["quantiles"].values())
    (interval,) = scores["intervals"]
    assert (interval["lower"], interval["upper"], interval["nominal"]) == (0.1, 0.9, 0.8)
    assert 0.0 <= interval["coverage"] <= 1.0
    assert scores["point_quantile"] == "p50"
    # the median's pinball loss is half the point forecast's mean absolute error
    assert scores["quantiles"]["p50"]["pinball"] == pytest.approx(scores["metrics"]["mae"] / 2)
    assert forecast_cli.load(model).evaluate(str(csv))["intervals"] == scores["intervals"]
    markdown = run_cli("evaluate", csv, "--model", model, "--format", "markdown", "--quiet").stdout
    assert "| 0.1–0.9 | 0.8 |" in markdown and "| p90 | 0.9 |" in markdown


def test_evaluate_and_predict_give_the_same_quantiles_from_the_same_origin(quantile_model):
    csv, model = quantile_model
    evaluation = evaluate(forecast_cli.load(model)._loaded, str(csv), lambda _: None)
    tested = evaluation.backtest
    origin = evaluation.frame.data.index[int(tested.origins[-3])]  # a backtest origin's first forecast row
    full = pd.read_csv(csv)
    before = full[pd.to_datetime(full["date"]) < origin]  # the rows before that origin
    ahead = forecast_cli.load(model, warn=lambda _: None).predict(before)
    assert pd.Timestamp(ahead["timestamp"].iloc[0]) == origin
    np.testing.assert_allclose(ahead["sales_p50"], tested.levels[-3, :, 1])
    np.testing.assert_allclose(ahead[["sales_p10", "sales_p50", "sales_p90"]].to_numpy(), tested.levels[-3])


def test_plot_with_quantiles_writes_an_image(quantile_model, tmp_path):
    csv, model = quantile_model
    result = run_cli("plot", csv, "--model", model, "--out", tmp_path / "band.png", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "band.png").read_bytes()[:4] == b"\x89PNG"


def test_the_manifest_records_the_levels_and_the_calibration(quantile_model):
    _, model = quantile_model
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["config"]["model"]["quantiles"] == [0.1, 0.5, 0.9]
    assert manifest["calibration"]["part"] in ("validation", "training+validation")
    assert len(manifest["calibration"]["offsets"]) == 2  # one row per horizon step, one value per interval


def test_a_model_saved_before_quantiles_existed_still_loads(fitted, model_copy):
    path = model_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["config"]["model"]["quantiles"]
    manifest.pop("calibration")
    path.write_text(json.dumps(manifest))
    table = forecast_cli.load(model_copy).predict(str(fitted.csv))
    assert list(table.columns) == ["timestamp", "step", "sales"]


@pytest.mark.parametrize("levels, message", [
    ("0.1,0.1", "error: --quantiles 0.1,0.1: 0.1 is given twice"),
    ("1.2", "error: --quantiles 1.2: 1.2 is not between 0 and 1 (exclusive)"),
])
def test_bad_quantiles_are_refused_in_one_line(tmp_path, levels, message):
    csv = tmp_path / "tiny.csv"
    make_tiny_frame().to_csv(csv, index=False)
    result = run_cli("fit", csv, "--target", "sales", "--quantiles", levels, "--out", tmp_path / "m", *TINY)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (tmp_path / "m").exists()


def test_a_classifier_refuses_quantiles(tmp_path):
    csv = tmp_path / "tiny.csv"
    make_tiny_frame().to_csv(csv, index=False)
    result = run_cli("fit", csv, "--target-from", "sales", "--classify-direction", "--quantiles", "0.1,0.9",
                     "--out", tmp_path / "m", *TINY)
    assert result.exit_code == 2
    assert result.stderr == ("error: --quantiles gives forecast intervals; --task classify predicts class "
                             "probabilities already, so leave out --quantiles.\n")


def test_a_calibration_of_another_shape_is_refused(quantile_model, tmp_path):
    import shutil

    from forecast_cli.errors import ArtifactError

    _, model = quantile_model
    copy = Path(shutil.copytree(model, tmp_path / "model"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["calibration"]["offsets"] = [[1.0]]  # one step, but the horizon is 2
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=r"field 'calibration.offsets' has shape \[1, 1\], but "
                                            r"config.model.quantiles \[0.1, 0.5, 0.9\] with horizon 2 need \[2, 1\]"):
        forecast_cli.load(copy)
