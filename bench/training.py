"""Training throughput and test error: `forecast fit` (each training mode it offers) against a bare
`nn.LSTM` + Adam loop on the same prebuilt tensors, and NeuralForecast / Darts when installed.

The bare loop is the physical reference: no validation, no clipping, no early stopping, every window
prebuilt as one contiguous tensor. It does the same job as fit's default `--norm window` (inputs
relative to each window's last row, output an offset from the last target value), so its test error
means something on a series whose level drifts; that costs one subtraction per batch.
Runs interleave (fit, bare, fit, bare ...) and each side's per-epoch figures are medians.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.measure import Row

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Size:
    """A model and batch size to compare at; the issue's size and fit's defaults."""

    name: str
    window: int
    hidden: int
    layers: int
    batch: int


SIZES = (Size("issue size", 96, 64, 2, 256), Size("defaults", 20, 32, 1, 128))


@dataclass
class Trained:
    """Per-epoch medians of one trainer at one size, and its test MSE in training z-scores."""

    name: str
    origins: int  # forecast origins trained on per epoch
    wall: float  # seconds per epoch
    cpu: float
    mse: float | None
    note: str = ""

    @property
    def origins_per_s(self) -> float:
        return self.origins / self.wall


def training_modes() -> list[str]:
    """fit's training modes: windows always; forking when `forecast fit --help` offers --training.

    Add a mode here by name: it is passed as `training=` to forecast_cli.fit.
    """
    help_text = subprocess.run([sys.executable, "-m", "forecast_cli", "fit", "--help"], capture_output=True,
                               text=True, env={**os.environ, "COLUMNS": "200"}).stdout
    return ["windows", "forking"] if "--training" in help_text else ["windows"]


def prepared(data: Path, target: str, size: Size):
    """fit's own preparation of `data` (same split, scaler and tensors as a fit with these sizes)."""
    from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
    from forecast_cli.preparing import prepare
    from forecast_cli.store.manifest import Configs

    configs = Configs(DataConfig(target=target, window=size.window), ModelConfig(hidden_size=size.hidden,
                      num_layers=size.layers), TrainConfig(batch_size=size.batch))
    return prepare(str(data), configs, lambda message: None)


def fit_run(data: Path, target: str, size: Size, mode: str, epochs: int) -> Trained:
    """`forecast_cli.fit` (what the CLI calls): per-epoch wall and CPU from consecutive epoch ends, so
    validation and best-weight copies count, as they do in every fit; the first epoch (warm-up) is
    left out when there are more."""
    import forecast_cli

    marks = []
    extra = {} if mode == "windows" else {"training": mode}
    model = forecast_cli.fit(str(data), target=target, window=size.window, hidden=size.hidden, layers=size.layers,
                             batch_size=size.batch, epochs=epochs, patience=epochs, seed=0, warn=lambda m: None,
                             on_epoch_end=lambda stats: marks.append((time.perf_counter(), time.process_time(),
                                                                      stats)), **extra)
    walls = np.diff([mark[0] for mark in marks]) if len(marks) > 1 else [marks[0][2].seconds]
    cpus = np.diff([mark[1] for mark in marks]) if len(marks) > 1 else [marks[0][2].seconds]
    splits = model.manifest.data.splits
    origins = getattr(marks[-1][2], "origins", None)  # a mode may report its origins per epoch
    note = "" if origins else ("" if mode == "windows" else "origins estimated as train rows - window")
    origins = origins or splits["train"] - size.window
    rmse = (model.report or {}).get("metrics", {}).get("rmse")
    mse = None if rmse is None else (rmse / float(model.manifest.scaler.scale[0])) ** 2
    return Trained(f"forecast fit --training {mode}", origins, float(np.median(walls)), float(np.median(cpus)),
                   mse, note)


class BareLSTM(nn.Module):
    """nn.LSTM + a linear head, inputs relative to the window's last row (what --norm window does)."""

    def __init__(self, features: int, relative: int, size: Size) -> None:
        super().__init__()
        self.relative = relative
        self.lstm = nn.LSTM(features, size.hidden, size.layers, batch_first=True)
        self.head = nn.Linear(size.hidden, 1)
        nn.init.zeros_(self.head.weight)  # start as the naive forecast, like fit's head
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        anchor = x[:, -1:, : self.relative]  # (B, 1, R)
        x = torch.cat([x[:, :, : self.relative] - anchor, x[:, :, self.relative:]], dim=2)
        return self.head(self.lstm(x)[0][:, -1]) + anchor[:, 0, :1]  # (B, 1)


def windows(prep, origins: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Prebuilt contiguous (N, L, F) inputs and (N, 1) targets for `origins`."""
    values = torch.from_numpy(np.ascontiguousarray(prep.data.values))
    target = torch.from_numpy(np.ascontiguousarray(prep.data.target))
    index = torch.from_numpy(origins)
    x = values.unfold(0, prep.data.window, 1)[index - prep.data.window].transpose(1, 2).contiguous()
    return x, target[index].unsqueeze(1)


def test_origins(prep) -> np.ndarray:
    from forecast_cli.data.windows import origins_between

    return origins_between(prep.splits.val_end, prep.splits.rows, prep.data.window, 1)


def bare_run(prep, size: Size, epochs: int, lr: float = 0.002) -> Trained:
    """The reference loop: shuffled batches of prebuilt windows, MSE, Adam; nothing else."""
    torch.manual_seed(0)
    x, y = windows(prep, prep.data.train_origins)
    model = BareLSTM(x.shape[2], prep.spec.relative, size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    walls, cpus = [], []
    for _ in range(epochs):
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in torch.randperm(len(x)).split(size.batch):
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.mse_loss(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    tx, ty = windows(prep, test_origins(prep))
    with torch.no_grad():
        mse = float(torch.cat([model(part) for part in tx.split(4096)]).sub(ty).pow(2).mean())
    return Trained("bare nn.LSTM + Adam", len(x), float(np.median(walls)), float(np.median(cpus)), mse)


def naive_mse(prep) -> float:
    """Test MSE of repeating the last value, in the same z-scores: the floor any model must beat."""
    origins = test_origins(prep)
    target = prep.data.target
    return float(((target[origins] - target[origins - 1]) ** 2).mean())


def compare(data: Path, target: str, epochs: int, repeats: int, others: bool) -> list[Row]:
    """Rows for each size: every fit mode and the bare loop interleaved, then the libraries."""
    from bench import libraries

    rows = []
    modes = training_modes()
    for size in SIZES:
        prep = prepared(data, target, size)
        label = f"{size.name} (window {size.window}, {size.hidden}x{size.layers}, batch {size.batch})"
        bare_run(prep, size, 1)  # warm-up: first Adam, first LSTM kernels
        runs: dict[str, list[Trained]] = {}
        for _ in range(repeats):
            for mode in modes:
                result = fit_run(data, target, size, mode, epochs)
                runs.setdefault(result.name, []).append(result)
            result = bare_run(prep, size, epochs)
            runs.setdefault(result.name, []).append(result)
        merged = {name: _merge(results) for name, results in runs.items()}
        bare = merged.pop("bare nn.LSTM + Adam")
        if others and size.name == "issue size":
            for result in libraries.run_all(prep, size, epochs):
                if isinstance(result, str):
                    rows.append(Row("train", f"{label}: {result}", "skipped"))
                else:
                    merged[result.name] = result
        rows.append(_row(label, bare, None, naive_mse(prep)))
        for result in merged.values():
            windowed = result.name.endswith("windows")
            rows.append(_row(label, result, bare, None, ">= 0.95 of bare" if windowed and size.name == "issue size"
                             else ""))
        rows.extend(_forking_targets(label, merged))
    return rows


def _forking_targets(label: str, merged: dict[str, Trained]) -> list[Row]:
    """The issue's forking targets, when both sides ran: >= 20x NeuralForecast's origins per CPU-s,
    test MSE no more than 5% above windowed mode's."""
    forking, windowed = merged.get("forecast fit --training forking"), merged.get("forecast fit --training windows")
    neural = merged.get("NeuralForecast LSTM")
    rows = []
    if forking and neural:
        ratio = (forking.origins / forking.cpu) / (neural.origins / neural.cpu)
        rows.append(Row("train", f"{label}: forking vs NeuralForecast", "origins per CPU-s", "NeuralForecast LSTM",
                        ratio, ">= 20x", ratio >= 20))
    if forking and windowed and forking.mse is not None and windowed.mse is not None:
        ratio = forking.mse / windowed.mse
        rows.append(Row("train", f"{label}: forking test MSE", f"{forking.mse:.4f}", f"windows {windowed.mse:.4f}",
                        ratio, "<= 1.05x", ratio <= 1.05))
    return rows


def _merge(results: list[Trained]) -> Trained:
    """Medians over repeats (the last test MSE: each repeat trains from the same seed)."""
    first = results[0]
    return Trained(first.name, first.origins, float(np.median([r.wall for r in results])),
                   float(np.median([r.cpu for r in results])), results[-1].mse, first.note)


def _row(label: str, result: Trained, bare: Trained | None, naive: float | None, target: str = "") -> Row:
    """`figure`: origins/s, s/epoch wall and CPU, test MSE; ratio: throughput against the bare loop (CPU)."""
    mse = "n/a" if result.mse is None else f"{result.mse:.4f}"
    naive_text = f", naive {naive:.4f}" if naive is not None else ""
    figure = (f"{result.origins_per_s:,.0f} origins/s; {result.wall:.2f} s/epoch wall, {result.cpu:.2f} CPU; "
              f"test MSE {mse}{naive_text}" + (f" ({result.note})" if result.note else ""))
    ratio = None if bare is None else (result.origins / result.cpu) / (bare.origins / bare.cpu)
    met = ratio >= 0.95 if (target and ratio is not None) else None
    return Row("train", f"{label}: {result.name}", figure, "" if bare is None else "bare loop, origins per CPU-s",
               ratio, target, met, {"origins": result.origins, "wall_per_epoch": result.wall,
                                    "cpu_per_epoch": result.cpu, "test_mse": result.mse, "naive_mse": naive})
