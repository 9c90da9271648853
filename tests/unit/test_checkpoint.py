"""store/checkpoint.py: a TrainProgress saved beside `--out` loads back whole, only for the same data and
options, refuses damage with ArtifactError, and is removed without leaving anything behind."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from forecast_cli.config import TrainConfig
from forecast_cli.errors import ArtifactError, ConfigError
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec
from forecast_cli.nn.train import TrainingData, TrainProgress, train_model
from forecast_cli.store import checkpoint

# with --ema, so its moving average travels in the checkpoint too
TRAIN = TrainConfig(epochs=4, batch_size=8, lr=0.01, patience=100, device="cpu", seed=0, ema=0.9)
CONFIGS = {"data": {"target": "value", "window": 4, "features": ["value"]},
           "model": {"cell": "lstm", "hidden_size": 4, "num_layers": 2, "dropout": 0.3},
           "train": {"epochs": 4, "batch_size": 8, "lr": 0.01, "device": "cpu", "seed": 0}}
SCALER = {"mean": [1.5], "scale": [0.25]}
DATA_SHA = "ab" * 32

SPEC = ModelSpec(n_features=1, horizon=1, hidden_size=4, num_layers=2, dropout=0.3)


def stamp(data_sha256: str = DATA_SHA, scaler: dict | None = None, **changes: dict) -> dict:
    """The fingerprint of CONFIGS with `changes` per section, e.g. train={"lr": 0.02}."""
    configs = copy.deepcopy(CONFIGS)
    for section, values in changes.items():
        configs[section].update(values)
    return checkpoint.fingerprint(data_sha256, configs, scaler or SCALER)


def training_data() -> TrainingData:
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, (48, 1)).astype("float32")  # (T, F)
    return TrainingData(values, values[:, 0].copy(), np.arange(4, 40), np.arange(40, 48), window=4, horizon=1)


def new_model(seed: int = 0) -> Forecaster:
    torch.manual_seed(seed)
    return Forecaster(SPEC)


def interrupted_progress() -> TrainProgress:
    """A real run stopped in epoch 2 after 2 batches: history, best weights and Adam's moments are all set."""
    polls = []

    def should_stop() -> bool:  # polled after each of epoch 1's 5 batches, at its end, then in epoch 2
        polls.append(None)
        return len(polls) == 8

    result = train_model(new_model(), training_data(), TRAIN, should_stop=should_stop)
    assert result.interrupted is not None and (result.interrupted.epoch, result.interrupted.batches_done) == (2, 2)
    return result.interrupted


@pytest.fixture(scope="module")
def stopped_run() -> TrainProgress:
    return interrupted_progress()


@pytest.fixture
def progress(stopped_run) -> TrainProgress:
    """A private copy of the module's interrupted progress, for tests that change or resume it."""
    return copy.deepcopy(stopped_run)


@pytest.fixture
def saved(tmp_path, progress):
    """(out, the progress saved beside it)."""
    out = tmp_path / "model"
    checkpoint.save(out, progress, stamp())
    return out, copy.deepcopy(progress)


def assert_same_tensors(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for key in first:
        assert first[key].dtype == second[key].dtype and torch.equal(first[key], second[key]), key


def test_the_checkpoint_lives_beside_out():
    assert checkpoint.location(Path("runs/model")) == Path("runs/model.checkpoint")


def test_a_saved_progress_loads_back_equal(saved):
    out, progress = saved
    assert checkpoint.exists(out)
    loaded = checkpoint.load(out, stamp(), SPEC)
    for name in ("epoch", "batches_done", "loss_sum", "samples", "best", "stale", "best_epoch", "history",
                 "host_rng"):
        assert getattr(loaded, name) == getattr(progress, name), name
    assert_same_tensors(loaded.model_state, progress.model_state)
    assert_same_tensors(loaded.best_state, progress.best_state)
    assert progress.average_state and "n_averaged" in progress.average_state
    assert_same_tensors(loaded.average_state, progress.average_state)
    assert torch.equal(loaded.order_rng, progress.order_rng) and torch.equal(loaded.torch_rng, progress.torch_rng)
    # Adam's settings travel as JSON (its betas tuple comes back a list, which Adam reads alike)
    assert loaded.optimizer_state["param_groups"] == json.loads(json.dumps(progress.optimizer_state["param_groups"]))
    assert loaded.optimizer_state["state"].keys() == progress.optimizer_state["state"].keys()
    for index, values in progress.optimizer_state["state"].items():
        assert_same_tensors(loaded.optimizer_state["state"][index], values)


def test_a_progress_with_no_best_yet_keeps_an_infinite_best(tmp_path, progress):
    progress.best = math.inf  # as in epoch 1, before any epoch has been scored
    checkpoint.save(tmp_path / "model", progress, stamp())
    assert checkpoint.load(tmp_path / "model", stamp(), SPEC).best == math.inf


def test_training_resumed_from_a_loaded_checkpoint_ends_on_the_uninterrupted_weights(saved):
    out, _ = saved
    whole = train_model(new_model(), training_data(), TRAIN)
    resumed = train_model(new_model(seed=5), training_data(), TRAIN, resume=checkpoint.load(out, stamp(), SPEC))
    assert_same_tensors(resumed.state_dict, whole.state_dict)


def test_changed_data_is_refused(saved):
    out, _ = saved
    with pytest.raises(ConfigError, match="the data file changed since the checkpoint was saved"):
        checkpoint.load(out, stamp(data_sha256="cd" * 32), SPEC)


@pytest.mark.parametrize("section, key, value, shown", [
    ("train", "lr", 0.02, "train option lr = 0.01, not 0.02"),
    ("train", "seed", 1, "train option seed = 0, not 1"),
    ("model", "hidden_size", 8, "model option hidden_size = 4, not 8"),
    ("data", "features", ["value", "load"], "data option features = ['value'], not ['value', 'load']"),
])
def test_a_changed_option_is_refused_naming_it(saved, section, key, value, shown):
    out, _ = saved
    with pytest.raises(ConfigError) as raised:
        checkpoint.load(out, stamp(**{section: {key: value}}), SPEC)
    assert f"the checkpoint was made with {shown}; rerun with the same options" in str(raised.value)
    assert str(checkpoint.location(out)) in str(raised.value)


def test_more_epochs_or_another_device_may_resume(saved):
    out, progress = saved
    loaded = checkpoint.load(out, stamp(train={"epochs": 10, "device": "auto"}), SPEC)
    assert (loaded.epoch, loaded.batches_done) == (progress.epoch, progress.batches_done)


def test_another_normalization_is_refused(saved):
    out, _ = saved
    with pytest.raises(ConfigError, match="the checkpoint's normalization differs from this data's"):
        checkpoint.load(out, stamp(scaler={"mean": [1.5], "scale": [0.5]}), SPEC)


@pytest.mark.parametrize("damage", ["empty", "not_json", "cut_in_half", "other_format", "no_progress"])
def test_a_damaged_state_json_is_an_artifact_error(saved, damage):
    out, _ = saved
    state = checkpoint.location(out) / checkpoint.STATE
    text = state.read_text()
    state.write_text({"empty": "", "not_json": "{not json", "cut_in_half": text[: len(text) // 2],
                      "other_format": text.replace('"format": 1,', '"format": 2,', 1),
                      "no_progress": text.replace('"progress":', '"progres":', 1)}[damage])
    with pytest.raises(ArtifactError) as raised:
        checkpoint.load(out, stamp(), SPEC)
    assert "the checkpoint cannot be used" in str(raised.value) and "without --resume" in str(raised.value)


@pytest.mark.parametrize("content", ["[1, 2]", "null", '{"format": 1, "fingerprint": null}'])
def test_a_state_json_that_is_not_an_object_is_an_artifact_error(saved, content):
    out, _ = saved
    (checkpoint.location(out) / checkpoint.STATE).write_text(content)
    with pytest.raises(ArtifactError, match="the checkpoint cannot be used"):
        checkpoint.load(out, stamp(), SPEC)


def test_damaged_tensors_are_an_artifact_error(saved):
    out, _ = saved
    (checkpoint.location(out) / checkpoint.TENSORS).write_bytes(b"\x00" * 20)
    with pytest.raises(ArtifactError, match="the checkpoint cannot be used"):
        checkpoint.load(out, stamp(), SPEC)


def test_a_missing_checkpoint_is_an_artifact_error(tmp_path):
    assert not checkpoint.exists(tmp_path / "model")
    with pytest.raises(ArtifactError, match="the checkpoint cannot be used"):
        checkpoint.load(tmp_path / "model", stamp(), SPEC)


def test_saving_again_replaces_the_older_checkpoint_whole(saved, tmp_path):
    out, progress = saved
    later = copy.deepcopy(progress)
    later.epoch, later.batches_done = 3, 1
    checkpoint.save(out, later, stamp())
    loaded = checkpoint.load(out, stamp(), SPEC)
    assert (loaded.epoch, loaded.batches_done) == (3, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.checkpoint"]
    assert sorted(p.name for p in checkpoint.location(out).iterdir()) == [checkpoint.STATE, checkpoint.TENSORS]


def test_discard_removes_the_checkpoint_and_leaves_nothing_beside_it(saved, tmp_path):
    out, _ = saved
    checkpoint.discard(out)
    assert not checkpoint.exists(out)
    assert list(tmp_path.iterdir()) == []


def test_discard_without_a_checkpoint_does_nothing(tmp_path):
    (tmp_path / "model").mkdir()
    checkpoint.discard(tmp_path / "model")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
