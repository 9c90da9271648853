"""Write a long-format CSV of many series (issue 11's demo): `id,time,value`, rows shuffled.

Run: python bench/make_many_series.py OUT.csv [--series 10000] [--rows 500] [--seed 0]

Each series is one of a few seasonal shapes (daily data with a weekly cycle, a yearly cycle, both,
or none), a random level and trend, and noise; a quarter of them start later and a tenth end early,
so series have their own start and end. Rows of all series are shuffled together, as a file
exported from a warehouse arrives. Prints what it wrote to stderr; never part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

SHAPES = ("weekly", "yearly", "both", "flat")


def series_values(rows: int, shape: str, rng: np.random.Generator) -> np.ndarray:
    """(rows,) positive values: level * (1 + trend + season) + noise."""
    step = np.arange(rows)
    level = rng.uniform(10.0, 10_000.0)
    season = np.zeros(rows)
    if shape in ("weekly", "both"):
        season += rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * (step + rng.integers(7)) / 7)
    if shape in ("yearly", "both"):
        season += rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * (step + rng.integers(365)) / 365.25)
    trend = rng.uniform(-0.2, 0.4) * step / rows
    noise = rng.normal(0.0, rng.uniform(0.02, 0.08), rows)
    return level * np.maximum(1.0 + trend + season + noise, 0.05)


def long_frame(series: int, rows: int, seed: int) -> pd.DataFrame:
    """All series in long format, shuffled; series i is named `s00042`."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01")
    parts = []
    width = len(str(series - 1))
    for index in range(series):
        offset = int(rng.integers(0, rows // 5)) if rng.random() < 0.25 else 0
        length = rows - offset - (int(rng.integers(1, rows // 10)) if rng.random() < 0.1 else 0)
        values = series_values(length, SHAPES[index % len(SHAPES)], rng)
        parts.append(pd.DataFrame({"id": f"s{index:0{width}d}",
                                   "time": pd.date_range(start + pd.Timedelta(days=offset), periods=length, freq="D"),
                                   "value": np.round(values, 3)}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    frame = long_frame(args.series, args.rows, args.seed)
    frame.to_csv(args.out, index=False, date_format="%Y-%m-%d")
    print(f"wrote {len(frame):,} rows of {args.series:,} series to {args.out} in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
