"""Seed spread with and without `--ensemble`: test MSE of single models (seeds 0 .. N-1) and of
ensembles of `--members` (seeds 0.., then the next block of seeds...), on a long hourly series.

Run: OMP_NUM_THREADS=1 python bench/ensemble_spread.py [--data sample_data/pollution.csv --target pm2.5]
     [--horizon 24] [--ensembles 3] [--members 3] [--epochs 60] [--rows N] [--json FILE]
(prints figures; never part of the tests)

One fit with `--ensemble M --seed S` trains the single models of seeds S .. S+M-1 as its members and
reports each member's test scores (report.json's `ensemble` entry), so `--ensembles K` fits give
K*M single models and K ensembles: their spreads are (max - min) / min of the test MSE. MSE is on
the z-scored target (divided by the training part's variance), as the issue's protocol.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import forecast_cli

ROOT = Path(__file__).resolve().parent.parent


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "sample_data" / "pollution.csv")
    parser.add_argument("--target", default="pm2.5")
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--ensembles", type=int, default=3, help="ensemble fits, each on the next block of seeds")
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="default: fit's own")
    parser.add_argument("--rows", type=int, default=None, help="use only the last N rows")
    parser.add_argument("--generated", type=int, metavar="ROWS", help="instead of --data: a generated hourly "
                        "series of ROWS rows (daily and weekly cycles, a slow random-walk level, AR(1) noise)")
    parser.add_argument("--json", type=Path)
    return parser.parse_args()


def generated(rows: int, seed: int = 0) -> pd.DataFrame:
    """Hourly: a slow random-walk level, a daily and a weekly cycle, AR(1) noise (phi 0.8)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    noise = np.zeros(rows)
    shocks = rng.normal(0, 1, rows)
    for t in range(1, rows):
        noise[t] = 0.8 * noise[t - 1] + shocks[t]
    values = (np.cumsum(rng.normal(0, 0.05, rows)) + 5 * np.sin(2 * np.pi * steps / 24)
              + 2 * np.sin(2 * np.pi * steps / 168) + noise)
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=rows, freq="h"), "value": values})


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / min(values)


def main() -> None:
    args = options()
    frame = generated(args.generated) if args.generated else pd.read_csv(args.data)
    target = "value" if args.generated else args.target
    if args.rows:
        frame = frame.tail(args.rows).reset_index(drop=True)
    extra = {"epochs": args.epochs} if args.epochs else {}
    singles, ensembles, seconds = [], [], []
    for block in range(args.ensembles):
        seed = block * args.members
        started = time.perf_counter()
        model = forecast_cli.fit(frame, target, horizon=args.horizon, seed=seed, ensemble=args.members,
                                 warn=lambda message: None, **extra)
        seconds.append(time.perf_counter() - started)
        scale = model.manifest.scaler.scale[0]
        report = model.report
        members = [(rmse / scale) ** 2 for rmse in report["ensemble"]["rmse"]["members"]]
        whole = (report["metrics"]["rmse"] / scale) ** 2
        singles += members
        ensembles.append(whole)
        print(f"seeds {seed}-{seed + args.members - 1}: members' test MSE "
              + ", ".join(f"{value:.4f}" for value in members)
              + f"; ensemble {whole:.4f}; best epochs {report['ensemble']['best_epochs']}; "
              f"naive {(report['baselines']['naive']['rmse'] / scale) ** 2:.4f}, "
              f"linear {(report['baselines'].get('linear', {}).get('rmse', float('nan')) / scale) ** 2:.4f}; "
              f"{seconds[-1]:.0f}s", flush=True)
    print(f"single models, seeds 0-{len(singles) - 1}: test MSE {min(singles):.4f} to {max(singles):.4f}, "
          f"spread {100 * spread(singles):.1f}% (seeds 0-2 alone: {100 * spread(singles[:3]):.1f}%), "
          f"mean {np.mean(singles):.4f}")
    print(f"ensembles of {args.members}: test MSE {min(ensembles):.4f} to {max(ensembles):.4f}, "
          f"spread {100 * spread(ensembles):.1f}%, mean {np.mean(ensembles):.4f}")
    if args.json:
        args.json.write_text(json.dumps({"singles": singles, "ensembles": ensembles, "seconds": seconds}, indent=2))


if __name__ == "__main__":
    main()
