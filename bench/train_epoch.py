"""Training throughput: seconds per epoch and windows per second on the bundled samples.

Run: python bench/train_epoch.py [--device cpu|cuda] [--threads 1 2]   (prints figures; never part of the test suite)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from forecast_cli.config import TrainConfig
from forecast_cli.data.frame import build_frame
from forecast_cli.data.io import read_table
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec
from forecast_cli.nn.train import TrainingData, train_model
from forecast_cli.data.windows import Scaler, origins_between, split_rows

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
CASES = (("sh000001_daily.csv", "close"), ("pollution.csv", "pm2.5"))


def training_data(path: Path, target: str, window: int = 20) -> TrainingData:
    table = read_table(str(path))
    frame = build_frame(table.raw, table.name, target, None, None, 1)
    values = frame.data.to_numpy(dtype="float64")
    splits = split_rows(len(values), 0.1, 0.2, window, 1, table.name)
    scaled = Scaler.fit(values[: splits.train_end]).transform(values)
    return TrainingData(scaled, scaled[:, 0].copy(), origins_between(0, splits.train_end, window, 1),
                        origins_between(splits.train_end, splits.val_end, window, 1), window, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="CPU thread counts to compare")
    args = parser.parse_args()
    print(f"{'file':<22} {'cell':<5} {'hidden':>6} {'threads':>7} {'windows':>8} {'s/epoch':>8} {'windows/s':>10}")
    for name, target in CASES:
        data = training_data(SAMPLES / name, target)
        for cell, hidden, threads in ((c, h, t) for c in ("lstm", "gru") for h in (32, 128) for t in args.threads):
            os.environ["OMP_NUM_THREADS"] = str(threads)  # train.limit_cpu_threads leaves it alone then
            torch.set_num_threads(threads)
            model = Forecaster(ModelSpec(data.values.shape[1], 1, cell, hidden, relative=1))
            config = TrainConfig(epochs=args.epochs, patience=args.epochs, device=args.device)
            train_model(Forecaster(model.spec), data, TrainConfig(epochs=1, device=args.device))  # warm-up
            started = time.perf_counter()
            train_model(model, data, config)
            per_epoch = (time.perf_counter() - started) / args.epochs
            windows = len(data.train_origins)
            print(f"{name:<22} {cell:<5} {hidden:>6} {threads:>7} {windows:>8} {per_epoch:>8.3f} "
                  f"{windows / per_epoch:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
