"""Start-up: `forecast --help` and a cold `forecast predict` (default, then per engine) against a cold `import torch`.

Every run is a fresh process (as cron or a shell pipeline starts them), all four interleaved; the
figures are medians. The model is a small LSTM fitted on sample_data/sine.csv first.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.measure import Row, forecast, interleaved, median, python, run_child

ROOT = Path(__file__).resolve().parents[1]


def measure(runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as scratch:
        model = str(Path(scratch) / "model")
        fitted = run_child(forecast("fit", str(ROOT / "sample_data" / "sine.csv"), "--target", "value", "--epochs",
                                    "3", "--horizon", "5", "--out", model, "--quiet"))
        if fitted.rc:
            return [Row("start-up", "fit of the small model failed", f"exit {fitted.rc}")]
        costs = interleaved({"help": forecast("--help"), "torch": python("import torch"),
                             "predict": forecast("predict", "--model", model),
                             "predict torch": forecast("predict", "--model", model, "--engine", "torch"),
                             "predict numpy": forecast("predict", "--model", model, "--engine", "numpy")}, runs)
    wall = {name: median(runs_, "wall") for name, runs_ in costs.items()}
    cpu = {name: median(runs_, "cpu") for name, runs_ in costs.items()}

    def row(what: str, name: str, reference: str, ratio: float | None, target: str, met: bool | None) -> Row:
        return Row("start-up", what, f"{wall[name]:.2f} s wall, {cpu[name]:.2f} CPU-s", reference, ratio, target,
                   met, {"wall": wall[name], "cpu": cpu[name], "runs": runs})

    # Verdicts on CPU seconds: these are one-thread processes, so on an idle machine wall ~ CPU, and
    # on a shared one CPU seconds are what neighbours disturb least.
    torch_note = f"import torch {cpu['torch']:.2f} CPU-s"
    return [
        row("cold `python -c 'import torch'`", "torch", "", None, "", None),
        row("`forecast --help`", "help", "", None, "<= 0.3 s (CPU)", cpu["help"] <= 0.3),
        row("cold `forecast predict` (default engine: numpy)", "predict", torch_note, cpu["predict"] / cpu["torch"],
            "<= import torch + 0.4 s (CPU)", cpu["predict"] <= cpu["torch"] + 0.4),
        row("cold `forecast predict --engine torch`", "predict torch", torch_note, cpu["predict torch"] / cpu["torch"],
            "<= import torch + 0.4 s (CPU)", cpu["predict torch"] <= cpu["torch"] + 0.4),
        row("cold `forecast predict --engine numpy`", "predict numpy", torch_note,
            cpu["predict numpy"] / cpu["torch"], "<= 0.6 s (CPU)", cpu["predict numpy"] <= 0.6),
    ]
