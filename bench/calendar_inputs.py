"""Does `--calendar auto` help? Test MASE with `--calendar off` and `--calendar auto`, default options
otherwise, at horizon 1 and horizon = one season, on bench/accuracy.py's series that have a calendar
(real and generated; the long ones only with --long), plus an hourly series with a weekly cycle that a
20-row window cannot see.

Run: OMP_NUM_THREADS=1 python bench/calendar_inputs.py [--long] [--only NAME]
(prints figures; never part of the tests)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import forecast_cli  # noqa: E402
from bench.accuracy import Series, generated_series, real_series  # noqa: E402
from forecast_cli.errors import ForecastError  # noqa: E402

LONG = {"pollution", "hourly_20000"}
# No calendar cycle in them. sine and cosine_sign (hourly, a 50-hour cycle) stay in: a calendar that is no
# cycle of the series is where the inputs can hurt (the sine at horizon 24 when day of year was kept).
WITHOUT_CALENDAR = {"random_walk_1000", "intermittent_730"}


def weekly_hourly(rows: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Hourly: a daily cycle, a weekly one (weekends lower) and AR(1) noise."""
    rng = np.random.default_rng(seed)
    time_index = pd.date_range("2020-01-06", periods=rows, freq="h")
    noise = np.zeros(rows)
    for t in range(1, rows):
        noise[t] = 0.7 * noise[t - 1] + rng.normal()
    values = 50 + 8 * np.sin(2 * np.pi * time_index.hour / 24) - 10 * (time_index.dayofweek >= 5) + noise
    return pd.DataFrame({"time": time_index, "value": values})


def mase(series: Series, horizon: int, calendar: str) -> tuple[float | None, int | None, float]:
    started = time.perf_counter()
    try:
        model = forecast_cli.fit(series.source, target=series.target, horizon=horizon, calendar=calendar,
                                 warn=lambda message: None)
    except ForecastError as exc:
        print(f"  {series.name} h={horizon} {calendar}: not fitted ({exc})", flush=True)
        return None, None, time.perf_counter() - started
    report = model.report
    return (report["metrics"]["mase"] if report else None), model.manifest.season, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="also the 20,000+ row series (minutes each)")
    parser.add_argument("--only", metavar="NAME")
    args = parser.parse_args()
    suite = [*real_series(), *generated_series(), Series("weekly_cycle_hourly_5000", weekly_hourly(), "value")]
    suite = [s for s in suite if s.name not in WITHOUT_CALENDAR and (args.long or s.name not in LONG)]
    if args.only:
        suite = [s for s in suite if args.only in s.name]
    print(f"{'series':<28} {'h':>3} {'off':>8} {'auto':>8}  better")
    wins = {1: [0, 0], "season": [0, 0]}
    started = time.perf_counter()
    for series in suite:
        season = None
        for horizon in (1, "season"):
            steps = 1 if horizon == 1 else season
            if horizon != 1 and (not steps or steps == 1):
                continue
            off, season_seen, _ = mase(series, steps, "off")
            season = season or season_seen
            auto, _, _ = mase(series, steps, "auto")
            better = "-" if off is None or auto is None else "auto" if auto < off else "off"
            if better != "-":
                wins[horizon][0] += better == "auto"
                wins[horizon][1] += 1
            cell = lambda value: "-" if value is None else f"{value:.3f}"  # noqa: E731
            print(f"{series.name:<28} {steps:>3} {cell(off):>8} {cell(auto):>8}  {better}", flush=True)
    print(f"auto better at horizon 1 on {wins[1][0]}/{wins[1][1]}, at one season on {wins['season'][0]}/"
          f"{wins['season'][1]}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
