"""`--cell linear`: one layer from the normalized window to the horizon, saved, reloaded and refused
with options it has no use for; and the linear baseline every forecaster's fit trains beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli.app import app

runner = CliRunner()
TINY = ["--epochs", "2", "--hidden", "4", "--window", "6", "--quiet"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    rows = 90
    steps = np.arange(rows)
    path = tmp_path_factory.mktemp("linear") / "weekly.csv"
    pd.DataFrame({"date": pd.date_range("2021-01-04", periods=rows, freq="D").strftime("%Y-%m-%d"),
                  "value": (50 + 10 * np.sin(2 * np.pi * steps / 7) + 0.1 * steps).round(3)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("extra, message", [
    (["--bidirectional"], "error: --cell linear reads the window in one layer, with no direction; leave out "
                          "--bidirectional."),
    (["--decoder", "seq2seq"], "error: --cell linear maps the window straight to the horizon; --decoder seq2seq "
                               "needs a recurrent cell (lstm or gru), or use --decoder direct."),
    (["--layers", "2"], "error: --cell linear is one layer; --layers 2 needs a recurrent cell (lstm or gru)."),
    (["--training", "forking"], "error: --cell linear cannot be used with --training forking (it has no encoder "
                                "pass to share across origins); use --training windows."),
])
def test_linear_cell_refuses_options_it_has_no_use_for(csv, tmp_path, extra, message):
    result = runner.invoke(app, ["fit", str(csv), "--target", "value", "--cell", "linear", "--out",
                                 str(tmp_path / "m"), *TINY, *extra])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == message
    assert not (tmp_path / "m").exists()


def test_linear_cell_predicts_the_same_after_reload_on_both_engines(csv, tmp_path):
    out = tmp_path / "m"
    fit = runner.invoke(app, ["fit", str(csv), "--target", "value", "--cell", "linear", "--horizon", "3",
                              "--out", str(out), *TINY])
    assert fit.exit_code == 0, fit.stderr
    torch_csv = runner.invoke(app, ["predict", "--model", str(out), "--quiet"]).stdout
    numpy_csv = runner.invoke(app, ["predict", "--model", str(out), "--engine", "numpy", "--quiet"]).stdout
    torch_values = pd.read_csv(pd.io.common.StringIO(torch_csv))["value"].to_numpy()
    numpy_values = pd.read_csv(pd.io.common.StringIO(numpy_csv))["value"].to_numpy()
    assert len(torch_values) == 3
    np.testing.assert_allclose(numpy_values, torch_values, rtol=1e-5)
    assert json.loads((out / "manifest.json").read_text())["config"]["model"]["cell"] == "linear"


@pytest.fixture(scope="module")
def recurrent(csv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("recurrent") / "m"
    fit = runner.invoke(app, ["fit", str(csv), "--target", "value", "--horizon", "2", "--out", str(out), *TINY])
    assert fit.exit_code == 0, fit.stderr
    return out


def test_fit_reports_the_linear_baseline_and_evaluate_scores_it_on_the_same_origins(recurrent):
    report = json.loads((recurrent / "report.json").read_text())
    manifest = json.loads((recurrent / "manifest.json").read_text())
    assert list(report["baselines"]) == ["naive", "seasonal_naive", "linear"]
    assert manifest["baselines"]["linear"] == report["baselines"]["linear"]
    for engine in ("torch", "numpy"):
        import forecast_cli

        scores = forecast_cli.load(recurrent, engine=engine).evaluate()
        assert scores["windows"] == report["windows"]  # the training file: scored after the validation part
        assert scores["baselines"]["linear"]["mase"] == pytest.approx(report["baselines"]["linear"]["mase"], rel=1e-5)


def _rewrite_weights(model: Path, change) -> None:
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(model / "model.safetensors"))
    change(weights)
    save_file(weights, str(model / "model.safetensors"))
    manifest = json.loads((model / "manifest.json").read_text())  # as a model saved before weights had a digest,
    manifest.pop("weights_sha256", None)  # so the check under test is reached, not the digest's
    (model / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("change, needle", [
    (lambda w: w.update({"baseline.linear.head.weight": np.zeros((2, 5), dtype=np.float32)}),
     # window 6 x (the value and day of week's 2 columns: --calendar auto on a training part under two years)
     "tensor 'baseline.linear.head.weight' has shape [2, 5] but the manifest's model needs [2, 18]"),
    (lambda w: w["baseline.linear.head.bias"].fill(np.nan), "(linear baseline): tensor 'head.bias' holds NaN"),
    (lambda w: w.pop("baseline.linear.head.bias"), "lack tensor 'baseline.linear.head.bias'"),
    (lambda w: w.update({"baseline.other.head.bias": np.zeros(2, dtype=np.float32)}),
     "hold an unknown tensor 'baseline.other.head.bias'"),
])
def test_damaged_linear_baseline_weights_are_refused_in_one_line(recurrent, tmp_path, change, needle):
    import shutil

    model = Path(shutil.copytree(recurrent, tmp_path / "m"))
    _rewrite_weights(model, change)
    result = runner.invoke(app, ["evaluate", "--model", str(model), "--quiet"])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
