"""The model directory: reload gives identical forecasts, weights are safetensors, no pickle, atomic save."""

import csv
import dataclasses
import hashlib
import json
import os
import stat
import struct

import numpy as np
import pytest
from conftest import TINY_TARGET

from forecast_cli.store import artifact
from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.store.manifest import Configs
from forecast_cli.errors import ArtifactError
from forecast_cli.fitting import fit
from forecast_cli.store.atomic import write_text
from forecast_cli.loaded import open_model

EXPECTED_FILES = {"manifest.json", "model.safetensors", "history.csv", "report.json", "report.md"}


def _snapshot(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_predict_after_reload_is_identical(fitted):
    loaded = open_model(fitted.model_dir)
    reloaded, frequency = loaded.predictor, loaded.manifest.frequency
    frame, _, _ = loaded.read(str(fitted.csv), lambda note: None)
    origins = fitted.backtest.origins
    assert len(origins) > 0
    again = reloaded.forecast(frame, origins)
    assert np.array_equal(again, fitted.backtest.predicted)
    ahead_in_memory = fitted.predictor.ahead(frame, frequency)
    ahead_reloaded = reloaded.ahead(frame, frequency)
    assert np.array_equal(ahead_reloaded[TINY_TARGET].to_numpy(), ahead_in_memory[TINY_TARGET].to_numpy())


def test_weights_are_safetensors_and_nothing_is_pickled(fitted):
    from safetensors import safe_open

    assert {path.name for path in fitted.model_dir.iterdir()} == EXPECTED_FILES
    for path in fitted.model_dir.iterdir():
        head = path.read_bytes()[:2]
        assert head[:1] != b"\x80", f"{path.name} starts like a pickle"
        assert head != b"PK", f"{path.name} is a zip archive (torch.save format)"
    raw = (fitted.model_dir / "model.safetensors").read_bytes()
    header_length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8: 8 + header_length])
    with safe_open(str(fitted.model_dir / "model.safetensors"), framework="numpy") as weights:
        assert set(weights.keys()) == set(header) - {"__metadata__"}
        assert any(name.startswith("encoder.") for name in weights.keys())
    json.loads((fitted.model_dir / "manifest.json").read_text())


def test_failed_fit_leaves_the_previous_model_byte_identical(model_copy, fitted, monkeypatch):
    before = _snapshot(model_copy)

    def broken_history(path, history):
        path.write_text("epoch\n1")  # half written, then the failure
        raise RuntimeError("disk full")

    monkeypatch.setattr(artifact, "_write_history", broken_history)
    with pytest.raises(RuntimeError, match="disk full"):
        fit(str(fitted.csv), Configs(DataConfig(target=TINY_TARGET, window=5), ModelConfig(hidden_size=4),
            TrainConfig(epochs=1, device="cpu", seed=1)), model_copy, warn=lambda message: None)
    assert _snapshot(model_copy) == before
    left = [p.name for p in model_copy.parent.iterdir() if p.name != f".{model_copy.name}.lock"]
    assert left == [model_copy.name], "a staging directory was left"


def test_failed_swap_leaves_the_previous_model_byte_identical(model_copy, monkeypatch):
    before = _snapshot(model_copy)
    loaded = artifact.load(model_copy)
    manifest = dataclasses.replace(loaded.manifest, created_at="later")

    def broken_fsync(directory):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("forecast_cli.store.atomic._fsync_tree", broken_fsync)
    with pytest.raises(ArtifactError, match="nothing was replaced"):
        artifact.save(model_copy, manifest, loaded.weights, [], {}, "report\n")
    assert _snapshot(model_copy) == before
    assert [p.name for p in model_copy.parent.iterdir()] == [model_copy.name]


def test_manifest_records_what_the_issue_lists(fitted):
    manifest = json.loads((fitted.model_dir / "manifest.json").read_text())
    assert manifest["format_version"] == artifact.FORMAT_VERSION
    assert {"forecast", "torch"} <= set(manifest["versions"]) and manifest["created_at"]
    assert set(manifest["config"]) == {"data", "model", "train"}
    assert manifest["config"]["model"]["hidden_size"] == 8
    assert manifest["data"]["path"] == str(fitted.csv.resolve())
    assert manifest["data"]["sha256"] == hashlib.sha256(fitted.csv.read_bytes()).hexdigest()
    assert manifest["data"]["rows"] == 120 and manifest["data"]["last_timestamp"].startswith("2021-05-03")
    assert manifest["frame"]["numeric"] == [TINY_TARGET, "temp"]  # the inputs: numeric, then one-hot categories
    assert manifest["frame"]["dtypes"] == {TINY_TARGET: "float64", "temp": "float64"}
    assert manifest["frame"]["time_cols"] == ["date"] and manifest["frequency"] == "D"
    assert manifest["frame"]["categories"] == {} and manifest["frame"]["excluded"] == {}
    # daily data over under two years: day of week (sin and cos) as auto resolved it, with its reason
    assert manifest["config"]["data"]["calendar"] == "dayofweek"
    assert manifest["choices"]["calendar"]["left_out"] == ["dayofyear"]
    assert len(manifest["scaler"]["mean"]) == len(manifest["scaler"]["scale"]) == 2 + 2
    assert set(manifest["metrics"]) == {"mape", "smape", "mae", "rmse", "mase"}


def test_history_has_one_row_per_epoch(fitted):
    with open(fitted.model_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "train_loss", "val_loss", "seconds"]
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    assert all(float(row["train_loss"]) > 0 and float(row["val_loss"]) > 0 for row in rows)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_model_directory_and_reports_get_the_umask_permissions_of_a_plain_create(fitted, tmp_path):
    mask = _umask()
    assert stat.S_IMODE(fitted.model_dir.stat().st_mode) == 0o777 & ~mask
    for path in fitted.model_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name
    write_text(tmp_path / "forecast.csv", "timestamp,step,value\n")
    assert stat.S_IMODE((tmp_path / "forecast.csv").stat().st_mode) == 0o666 & ~mask
