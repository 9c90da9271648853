"""Forking-sequence training against windowed training: speed and test accuracy on one long series.

Run: OMP_NUM_THREADS=1 python bench/forking.py [--rows 20000] [--repeats 2]   (prints figures; never part of the tests)

A generated hourly series (daily and weekly seasons, a slow drift, AR(1) noise), window 96, hidden 64,
horizon 24; runs interleave windows, forking, windows, forking ... with the same OMP_NUM_THREADS.
Test MSE is on the z-scored target (MSE / training variance), over the same test origins for both.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

import forecast_cli


def series(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    noise = np.zeros(rows)
    shocks = rng.normal(0, 1.0, rows)
    for i in range(1, rows):
        noise[i] = 0.8 * noise[i - 1] + shocks[i]
    value = (50 + 10 * np.sin(2 * np.pi * steps / 24) + 5 * np.sin(2 * np.pi * steps / 168)
             + 8 * np.sin(2 * np.pi * steps / 5000) + noise)
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=rows, freq="h"), "value": value})


def run(frame: pd.DataFrame, training: str, args) -> dict:
    epochs = args.epochs_windows if training == "windows" else args.epochs_forking
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = forecast_cli.fit(frame, target="value", window=args.window, horizon=args.horizon, hidden=args.hidden,
                                 epochs=epochs, patience=args.patience, device="cpu", training=training,
                                 chunk=args.chunk, batch_size=args.batch_size, seed=0)
    wall = time.perf_counter() - started
    history = model._outcome.history
    per_epoch = float(np.median([row["seconds"] for row in history]))
    variance = float(model.manifest.scaler.scale[0]) ** 2
    origins = model.manifest.data.splits["train"] - args.window - args.horizon + 1
    return {"training": training, "epochs": len(history), "best": model.manifest.training.best_epoch,
            "s_epoch": per_epoch, "origins_s": origins / per_epoch, "wall": wall,
            "mse": model.report["metrics"]["rmse"] ** 2 / variance,
            "naive": model.report["baselines"]["naive"]["rmse"] ** 2 / variance}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=96)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=None)
    parser.add_argument("--epochs-windows", type=int, default=8)
    parser.add_argument("--epochs-forking", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--modes", nargs="*", default=["windows", "forking"])
    args = parser.parse_args()
    frame = series(args.rows)
    print(f"rows {args.rows}, window {args.window}, horizon {args.horizon}, hidden {args.hidden}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"{'training':<9} {'epochs':>6} {'best':>5} {'s/epoch':>8} {'origins/s':>10} {'fit s':>7} "
          f"{'test mse(z)':>11} {'naive':>7}")
    for _ in range(args.repeats):
        for training in args.modes:
            r = run(frame, training, args)
            print(f"{r['training']:<9} {r['epochs']:>6} {r['best']:>5} {r['s_epoch']:>8.3f} {r['origins_s']:>10.0f} "
                  f"{r['wall']:>7.1f} {r['mse']:>11.5f} {r['naive']:>7.4f}", flush=True)


if __name__ == "__main__":
    main()
