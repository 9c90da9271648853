"""Prediction intervals: test coverage of the 80% interval (p10-p90) with default options plus
--quantiles 0.1,0.5,0.9, at horizon 1 and at horizon = one season (the season the fit detects).

Run: OMP_NUM_THREADS=1 python bench/intervals.py [--quick] [--only NAME] [--epochs N] [--seed N] [--compare-point]
(prints figures; never part of the tests)

Series: generated seasonal + noise ones (monthly, daily, hourly; additive and multiplicative) and the
bundled sample_data files (airline passengers, daily minimum temperatures, Beijing pm2.5 (its last
8,760 hourly rows, one year), the Shanghai index close). Per fit: the coverage of the raw network
quantiles ("raw"), of the calibrated ones that predict/evaluate use ("calibrated", the validation
part's conformal widening: forecast_cli/intervals.py) and of a two-sided calibration that may also
narrow them (the choice not taken), the interval's mean width relative to the test MAE of the point
forecast, and the point forecast's test MASE beside the better baseline (with --compare-point, also
that of the same fit without --quantiles). The last line is the mean coverage across fits (the
target: 0.72-0.88 for the nominal 0.8).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import forecast_cli
from forecast_cli import describing, preparing
from forecast_cli.report import baseline_mase, best_baseline

ROOT = Path(__file__).resolve().parent.parent
QUANTILES = "0.1,0.5,0.9"
FALLBACK_SEASON = 5  # a series whose frequency implies none (business days): a trading week


def generated(name: str, rows: int, freq: str, season: int, noise: float, multiplicative: bool = False,
              seed: int = 0) -> pd.DataFrame:
    """Level + trend + a sine season + Gaussian noise (the season scaling the level when multiplicative)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    level = 100 + 0.05 * t
    cycle = np.sin(2 * np.pi * t / season) + 0.5 * np.sin(4 * np.pi * t / season + 1.0)
    values = level * (1 + 0.2 * cycle) if multiplicative else level + 10 * cycle
    values = values + rng.normal(0, noise, rows) * (level / 100 if multiplicative else 1)
    return pd.DataFrame({"time": pd.date_range("2000-01-01", periods=rows, freq=freq), "value": values})


def series(quick: bool) -> list[tuple[str, object, str]]:
    data = ROOT / "sample_data"
    pollution = pd.read_csv(data / "pollution.csv").tail(8760).reset_index(drop=True)
    chosen = [
        ("gen monthly 144", generated("m", 144, "MS", 12, 3.0), "value"),
        ("gen monthly mult 240", generated("mm", 240, "MS", 12, 4.0, multiplicative=True, seed=1), "value"),
        ("gen daily 730", generated("d", 730, "D", 7, 4.0, seed=2), "value"),
        ("gen hourly 2000", generated("h", 2000, "h", 24, 3.0, seed=3), "value"),
        ("airline-passengers", data / "airline-passengers.csv", "Passengers"),
        ("daily-min-temperatures", data / "daily-min-temperatures.csv", "Temp"),
        ("pollution (last year)", pollution, "pm2.5"),
        ("sh000001_daily", data / "sh000001_daily.csv", "close"),
    ]
    return chosen[:1] + chosen[4:5] if quick else chosen


def measure(source, target: str, horizon: int, epochs: int | None, seed: int = 0):
    """One fit: its test report (calibrated intervals, widening only), and on the same test origins the
    raw network's intervals and those of a two-sided calibration (allowed to narrow)."""
    options = {"epochs": epochs, "seed": seed} if epochs else {"seed": seed}
    model = forecast_cli.fit(source, target, horizon=horizon, quantiles=QUANTILES, warn=lambda _: None, **options)
    outcome = model._outcome  # the in-memory fit: its predictor and test origins
    report = outcome.report
    bare = replace(outcome.predictor, calibration=None)
    prepared = preparing.prepare(source, model.manifest.configs, lambda _: None)
    two_sided = replace(bare, calibration=describing.calibrate(bare, prepared, widen_only=False))
    scored = [predictor.backtest(prepared.frame, outcome.test.origins, model.manifest.season,
                                 model.manifest.mase_scale).result for predictor in (bare, two_sided)]
    return report, scored[0], scored[1], model


def line(cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two series, a smoke run")
    parser.add_argument("--only", help="run only series whose name contains this text")
    parser.add_argument("--epochs", type=int, help="override the default --epochs (default: the fit's default)")
    parser.add_argument("--seed", type=int, default=0, help="--seed of every fit")
    parser.add_argument("--compare-point", action="store_true",
                        help="also fit each without --quantiles (MSE) and print that point forecast's test MASE")
    args = parser.parse_args()
    head = ["series", "H", "test origins", "raw coverage", "calibrated coverage", "two-sided cal.",
            "width / MAE (raw, cal.)",
            "MASE (better baseline)", *(["MASE, point fit"] if args.compare_point else []), "s"]
    print(line(head))
    print(line(["---"] * len(head)))
    coverage = {"raw": [], "calibrated": [], "two-sided": []}
    for name, source, target in series(args.quick):
        if args.only and args.only not in name:
            continue
        season = None
        for horizon in (1, None):
            started = time.perf_counter()
            if horizon is None:
                horizon = season or FALLBACK_SEASON
            report, raw, two_sided, model = measure(source, target, horizon, args.epochs, args.seed)
            season = season or model.manifest.season
            cal = report["intervals"][0]
            raw_interval, two_interval = raw["intervals"][0], two_sided["intervals"][0]
            mae = report["metrics"]["mae"]
            best = best_baseline(report)
            coverage["raw"].append(raw_interval["coverage"])
            coverage["calibrated"].append(cal["coverage"])
            coverage["two-sided"].append(two_interval["coverage"])
            print(line([name, horizon, report["windows"], f"{raw_interval['coverage']:.3f}", f"{cal['coverage']:.3f}",
                        f"{two_interval['coverage']:.3f}",
                        f"{raw_interval['mean_width'] / mae:.2f}, {cal['mean_width'] / mae:.2f}",
                        f"{report['metrics']['mase']:.3f} ({baseline_mase(report, best):.3f})",
                        *([f"{point_mase(source, target, horizon, args):.3f}"] if args.compare_point else []),
                        f"{time.perf_counter() - started:.0f}"]), flush=True)
    print(line(["**mean coverage (nominal 0.8)**", "", "", f"**{np.mean(coverage['raw']):.3f}**",
                f"**{np.mean(coverage['calibrated']):.3f}**", f"**{np.mean(coverage['two-sided']):.3f}**",
                *[""] * (len(head) - 6)]))


def point_mase(source, target: str, horizon: int, args) -> float:
    """The test MASE of the same fit without --quantiles (MSE on one point per step)."""
    options = {"epochs": args.epochs} if args.epochs else {}
    model = forecast_cli.fit(source, target, horizon=horizon, seed=args.seed, warn=lambda _: None, **options)
    return model.report["metrics"]["mase"]


if __name__ == "__main__":
    main()
