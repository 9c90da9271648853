"""`--ensemble N`: N members trained with seeds seed .. seed+N-1, their forecasts averaged in predict and
evaluate on both engines, every member saved (and checked on load), the members' spread reported; N = 1
keeps the model directory exactly as without the option."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file, save_file

from forecast_cli.errors import ArtifactError
from forecast_cli.nn.spec import expected_shapes
from forecast_cli.store import artifact
from tests.conftest import run_cli

TINY = ["--epochs", "2", "--hidden", "4", "--window", "6", "--horizon", "2", "--quiet"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    rows = 90
    steps = np.arange(rows)
    path = tmp_path_factory.mktemp("ensemble") / "weekly.csv"
    pd.DataFrame({"date": pd.date_range("2021-01-04", periods=rows, freq="D").strftime("%Y-%m-%d"),
                  "value": (50 + 10 * np.sin(2 * np.pi * steps / 7) + 0.1 * steps).round(3)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def three(csv, tmp_path_factory) -> Path:
    """A model of three members, seeds 5, 6, 7."""
    out = tmp_path_factory.mktemp("three") / "m"
    result = run_cli("fit", csv, "--target", "value", "--ensemble", "3", "--seed", "5", "--out", out, *TINY)
    assert result.exit_code == 0, result.stderr
    return out


def _predicted(out: Path, *extra: str) -> np.ndarray:
    result = run_cli("predict", "--model", out, "--quiet", *extra)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))["value"].to_numpy()


def _single(csv: Path, tmp_path: Path, seed: int) -> np.ndarray:
    out = tmp_path / f"seed{seed}"
    assert run_cli("fit", csv, "--target", "value", "--seed", seed, "--out", out, *TINY).exit_code == 0
    return _predicted(out)


def test_an_ensemble_forecasts_the_mean_of_its_members_fitted_alone_with_their_seeds(csv, three, tmp_path):
    members = [_single(csv, tmp_path, seed) for seed in (5, 6, 7)]
    np.testing.assert_allclose(_predicted(three), np.mean(members, axis=0), rtol=1e-5)


def test_both_engines_average_the_members_alike(three):
    np.testing.assert_allclose(_predicted(three, "--engine", "numpy"), _predicted(three), rtol=1e-5)
    torch_json = json.loads(run_cli("evaluate", "--model", three, "--json", "--quiet").stdout)
    numpy_json = json.loads(run_cli("evaluate", "--model", three, "--json", "--quiet", "--engine", "numpy").stdout)
    assert numpy_json["metrics"]["mase"] == pytest.approx(torch_json["metrics"]["mase"], rel=1e-5)


def test_every_member_is_saved_under_its_prefix_and_the_manifest_records_the_count(three):
    manifest = artifact.read_manifest(three)
    assert manifest.configs.train.ensemble == 3
    own = expected_shapes(manifest.model_spec)
    names = set(load_file(three / "model.safetensors"))
    for prefix in ("", "ensemble.1.", "ensemble.2."):
        assert {prefix + name for name in own} <= names
    assert "ensemble.3." not in " ".join(names)


def test_the_fit_report_gives_the_members_spread_beside_the_ensemble(csv, tmp_path):
    out = tmp_path / "m"
    result = run_cli("fit", csv, "--target", "value", "--ensemble", "2", "--out", out,
                     *[arg for arg in TINY if arg != "--quiet"])
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    spread = report["ensemble"]
    assert spread["members"] == 2 and spread["seeds"] == [0, 1] and len(spread["best_epochs"]) == 2
    mase = spread["mase"]
    assert mase["min"] == min(mase["members"]) and mase["max"] == max(mase["members"])
    assert mase["std"] == pytest.approx(float(np.std(mase["members"])))
    assert mase["ensemble"] == report["metrics"]["mase"]
    assert "ensemble of 2 (seeds 0-1): members' test mase" in result.stderr
    assert "## Ensemble of 2" in (out / "report.md").read_text()


def test_one_member_saves_exactly_what_a_fit_without_the_option_saves(csv, tmp_path):
    plain, one = tmp_path / "plain", tmp_path / "one"
    assert run_cli("fit", csv, "--target", "value", "--out", plain, *TINY).exit_code == 0
    assert run_cli("fit", csv, "--target", "value", "--ensemble", "1", "--out", one, *TINY).exit_code == 0
    assert (plain / "model.safetensors").read_bytes() == (one / "model.safetensors").read_bytes()
    assert "ensemble" not in json.loads((one / "report.json").read_text())


def test_a_manifest_from_before_the_option_loads_as_one_member(csv, tmp_path):
    out = tmp_path / "m"
    assert run_cli("fit", csv, "--target", "value", "--out", out, *TINY).exit_code == 0
    raw = json.loads((out / "manifest.json").read_text())
    del raw["config"]["train"]["ensemble"]
    (out / "manifest.json").write_text(json.dumps(raw))
    assert artifact.read_manifest(out).configs.train.ensemble == 1
    assert len(_predicted(out)) == 2


def test_weights_lacking_a_member_are_refused_before_loading(three, tmp_path):
    weights = load_file(three / "model.safetensors")
    save_file({name: array for name, array in weights.items() if not name.startswith("ensemble.2.")},
              str(three.parent / "short.safetensors"))
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("manifest.json", "history.csv", "report.json", "report.md"):
        (broken / name).write_bytes((three / name).read_bytes())
    (broken / "model.safetensors").write_bytes((three.parent / "short.safetensors").read_bytes())
    raw = json.loads((broken / "manifest.json").read_text())
    raw["weights_sha256"] = None
    (broken / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="lack tensor 'ensemble.2."):
        artifact.load(broken)


def test_an_ensemble_of_classifiers_is_refused_in_one_line(csv, tmp_path):
    result = run_cli("fit", csv, "--target-from", "value", "--classify-direction", "--ensemble", "2",
                     "--out", tmp_path / "m", *TINY)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --ensemble 2 averages forecasts; --task classify predicts a label, "
                                     "so use --ensemble 1.")
