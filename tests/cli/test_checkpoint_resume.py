"""`--resume` continues only the run it belongs to: same data, same options; otherwise one clear line.

The interruption is simulated in-process (a `should_stop` that fires after a few batches); the
real-signal path is covered by tests/e2e/test_fit_faults.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import hang_guard, run_cli


def invoke(args: list):
    """The CLI on a list of arguments (run_cli takes them spread out)."""
    return run_cli(*args)

from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.store.manifest import Configs
from forecast_cli.errors import Interrupted

OPTIONS = ["--target", "value", "--epochs", "3", "--hidden", "4", "--window", "6", "--batch-size", "8"]


def write_series(path: Path, rows: int = 120) -> None:
    lines = [f"2020-{1 + i // 28 % 12:02d}-{1 + i % 28:02d},{10 + math.sin(i / 5):.4f}" for i in range(rows)]
    path.write_text("date,value\n" + "\n".join(sorted(set(lines))) + "\n")


def interrupted_fit(data: Path, out: Path, after_batches: int) -> Interrupted:
    """Run fit in-process and stop it after `after_batches` polls, as a SIGINT would."""
    from forecast_cli.fitting import fit

    polls = []

    def should_stop() -> bool:
        polls.append(None)
        return len(polls) > after_batches

    with pytest.raises(Interrupted) as raised:
        fit(str(data), Configs(DataConfig(target="value", window=6), ModelConfig(hidden_size=4), TrainConfig(
            epochs=3, batch_size=8)), out, warn=lambda message: None, should_stop=should_stop)
    return raised.value


@pytest.fixture
def stopped(tmp_path) -> Path:
    write_series(tmp_path / "data.csv")
    error = interrupted_fit(tmp_path / "data.csv", tmp_path / "model", after_batches=5)
    assert "checkpoint saved to" in str(error)
    assert not (tmp_path / "model").exists()
    return tmp_path


def test_interrupted_fit_writes_a_checkpoint_and_no_model(stopped):
    checkpoint = stopped / "model.checkpoint"
    assert sorted(p.name for p in checkpoint.iterdir()) == ["state.json", "tensors.safetensors"]


def test_resume_with_other_options_is_refused_naming_the_option(stopped):
    result = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--lr", "0.01", "--resume")
    assert result.exit_code == 2, result.stderr
    assert "made with train option lr = 0.002, not 0.01" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (stopped / "model").exists()


def test_resume_on_changed_data_is_refused(stopped):
    with open(stopped / "data.csv", "a") as handle:
        handle.write("2021-01-01,11.0\n")
    result = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--resume")
    assert result.exit_code == 2, result.stderr
    assert "the data file changed since the checkpoint was saved" in result.stderr


def test_resume_with_more_epochs_is_allowed(stopped):
    result = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--epochs", "4", "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resuming from" in result.stderr
    assert (stopped / "model" / "model.safetensors").is_file()
    assert not (stopped / "model.checkpoint").exists()


def test_damaged_checkpoint_is_refused(stopped):
    (stopped / "model.checkpoint" / "tensors.safetensors").write_bytes(b"\x00" * 20)
    result = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--resume")
    assert result.exit_code == 2, result.stderr
    assert "the checkpoint cannot be used" in result.stderr and "without --resume" in result.stderr


def test_fit_without_resume_starts_over_and_removes_the_checkpoint(stopped):
    result = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS)
    assert result.exit_code == 0, result.stderr
    assert "add --resume to continue it" in result.stderr
    assert not (stopped / "model.checkpoint").exists()


def test_resume_without_a_checkpoint_trains_from_the_beginning(tmp_path):
    write_series(tmp_path / "data.csv")
    result = run_cli("fit", tmp_path / "data.csv", "--out", tmp_path / "model", *OPTIONS, "--resume")
    assert result.exit_code == 0, result.stderr
    assert "no checkpoint at" in result.stderr


def test_stop_requested_before_training_writes_nothing(tmp_path):
    write_series(tmp_path / "data.csv")
    error = interrupted_fit(tmp_path / "data.csv", tmp_path / "model", after_batches=0)
    assert "before training started" in str(error)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.lock", "data.csv"]


def test_resumed_fit_equals_the_uninterrupted_one(stopped):
    resumed = run_cli("fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--resume")
    whole = run_cli("fit", stopped / "data.csv", "--out", stopped / "whole", *OPTIONS)
    assert resumed.exit_code == 0 and whole.exit_code == 0, (resumed.stderr, whole.stderr)
    weights = [(stopped / name / "model.safetensors").read_bytes() for name in ("model", "whole")]
    assert weights[0] == weights[1]
    history = [(stopped / name / "history.csv").read_text().splitlines() for name in ("model", "whole")]
    assert [row.split(",")[:3] for row in history[0]] == [row.split(",")[:3] for row in history[1]]


def test_resumed_forking_fit_equals_the_uninterrupted_one(tmp_path):
    from forecast_cli.fitting import fit

    write_series(tmp_path / "data.csv")
    forking = ["--training", "forking", "--chunk", "10"]
    polls = []
    with pytest.raises(Interrupted):
        fit(str(tmp_path / "data.csv"), Configs(DataConfig(target="value", window=6), ModelConfig(hidden_size=4),
            TrainConfig(epochs=3, batch_size=8, training="forking", chunk=10)), tmp_path / "model",
            warn=lambda message: None, should_stop=lambda: polls.append(None) or len(polls) > 5)
    resumed = run_cli("fit", tmp_path / "data.csv", "--out", tmp_path / "model", *OPTIONS, *forking, "--resume")
    whole = run_cli("fit", tmp_path / "data.csv", "--out", tmp_path / "whole", *OPTIONS, *forking)
    assert resumed.exit_code == 0 and whole.exit_code == 0, (resumed.stderr, whole.stderr)
    assert "resuming from" in resumed.stderr
    weights = [(tmp_path / name / "model.safetensors").read_bytes() for name in ("model", "whole")]
    assert weights[0] == weights[1]
def _plant(path: Path, plant: str) -> None:
    import os

    if plant == "oversized":
        with open(path, "r+b") as handle:
            handle.truncate(2**30)  # sparse, above both files' bounds for this small model
        return
    kept = path.with_name(path.name + ".real")
    path.rename(kept)
    {"fifo": os.mkfifo, "symlink to /dev/zero": lambda p: p.symlink_to("/dev/zero"),
     "symlink to a file": lambda p: p.symlink_to(kept)}[plant](path)


# A state.json that is a FIFO or a link to a device is no checkpoint at all (`exists` wants a regular
# file), so the fit starts over; linked to a regular file it is found, and refused as a link.
@pytest.mark.parametrize("name, plant", [
    ("state.json", "oversized"), ("state.json", "symlink to a file"), ("tensors.safetensors", "oversized"),
    ("tensors.safetensors", "fifo"), ("tensors.safetensors", "symlink to /dev/zero"),
    ("tensors.safetensors", "symlink to a file"),
])
def test_a_planted_checkpoint_file_is_refused_before_reading(stopped, name, plant):
    _plant(stopped / "model.checkpoint" / name, plant)
    with hang_guard():
        result = invoke(["fit", stopped / "data.csv", "--out", stopped / "model", *OPTIONS, "--resume", "--quiet"])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr
    assert not (stopped / "model").exists()
