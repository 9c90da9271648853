"""Run `forecast` with a pause planted at one point, so a test can kill it exactly there.

    python fault_harness.py POINT MARKS_DIR forecast-args...

Each point creates the file MARKS_DIR/<name> when reached, then (except `train`) sleeps until killed:
  none       no pause, training at full speed (for kills at random moments)
  train      every optimizer step sleeps SLOW_STEP seconds (same maths, more time to be hit);
             MARKS_DIR/train appears at the first step, MARKS_DIR/train-later at step LATER_STEP
  weights    model.safetensors has been half written in the staging folder
  staged     the staging folder is complete, not yet published
  exchanged  the new folder has been swapped in, the old one not yet removed
  checkpoint (with `train`'s slow steps) a checkpoint folder is complete, not yet published
  read       reading the data file (data/io.read_bytes) takes PAUSE seconds, in short sleeps that a signal
             can interrupt; MARKS_DIR/read appears when it starts (any command)
  describe   training is over; the test part's backtest (describing.describe) takes PAUSE seconds more
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

SLOW_STEP = 0.02
LATER_STEP = 20  # past the first epoch of the tests' series
PAUSE = 60.0  # long enough that a command which ignores a signal is told apart from one that stops


def main() -> None:
    point, marks = sys.argv[1], Path(sys.argv[2])
    plant(point, marks)
    from forecast_cli.cli.app import main as forecast

    sys.argv = ["forecast", *sys.argv[3:]]
    forecast()


def mark(marks: Path, name: str) -> None:
    (marks / name).touch()


def hang() -> None:
    while True:
        time.sleep(1)


def plant(point: str, marks: Path) -> None:
    if point in ("train", "checkpoint"):
        _slow_steps(marks)
    if point == "weights":
        _half_written_weights(marks)
    if point == "staged":
        import forecast_cli.store.artifact

        forecast_cli.store.artifact.publish = lambda staged, target: (mark(marks, "staged"), hang())
    if point == "exchanged":
        import forecast_cli.store.atomic

        exchange = forecast_cli.store.atomic._exchange

        def exchange_then_hang(first, second):
            done = exchange(first, second)
            mark(marks, "exchanged")
            hang()
            return done

        forecast_cli.store.atomic._exchange = exchange_then_hang
    if point in ("read", "describe"):
        _pause(point, marks)
    if point == "checkpoint":
        import forecast_cli.store.checkpoint

        forecast_cli.store.checkpoint.publish = lambda staged, target: (mark(marks, "checkpoint"), hang())


def _pause(point: str, marks: Path) -> None:
    import forecast_cli.data.io
    import forecast_cli.describing

    module, name = (forecast_cli.data.io, "read_bytes") if point == "read" else (forecast_cli.describing, "describe")
    original = getattr(module, name)

    def slow(*args, **kwargs):
        mark(marks, point)
        deadline = time.monotonic() + PAUSE
        while time.monotonic() < deadline:
            time.sleep(0.05)
        return original(*args, **kwargs)

    setattr(module, name, slow)


def _slow_steps(marks: Path) -> None:
    import torch

    step = torch.optim.Adam.step
    steps = []

    def slow_step(self, *args, **kwargs):
        steps.append(None)
        mark(marks, "train" if len(steps) < LATER_STEP else "train-later")
        time.sleep(SLOW_STEP)
        return step(self, *args, **kwargs)

    torch.optim.Adam.step = slow_step


def _half_written_weights(marks: Path) -> None:
    import safetensors.torch

    save_file = safetensors.torch.save_file

    def half_then_hang(tensors, filename, metadata=None):
        save_file(tensors, filename, metadata)
        if str(filename).endswith("model.safetensors"):
            data = Path(filename).read_bytes()
            Path(filename).write_bytes(data[: len(data) // 2])
            mark(marks, "weights")
            hang()

    safetensors.torch.save_file = half_then_hang


if __name__ == "__main__":
    main()
