"""Cold `forecast predict` per engine: each run a fresh process, as cron or a shell pipeline starts it.

    python bench/predict_engines.py [--model DIR] [--runs 5]

Without --model, fits a small LSTM on sample_data/sine.csv into a temporary directory first.
Prints, per engine, the median wall-clock and CPU seconds (user + sys) of the runs, and checks both
engines printed the same forecasts. Runs alternate between engines so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("torch", "numpy")


def forecast(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecast_cli", *args], capture_output=True, text=True, check=True)


def timed_predict(model: Path, engine: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout) of one cold predict."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = forecast("predict", "--model", str(model), "--engine", engine)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: fit a small one on sine.csv)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model
        if model is None:
            model = Path(scratch) / "model"
            forecast("fit", str(ROOT / "sample_data" / "sine.csv"), "--target", "value", "--epochs", "3",
                     "--horizon", "5", "--out", str(model), "--quiet")
        forecast("predict", "--model", str(model), "--engine", "numpy")  # warm the file cache once
        runs = {engine: [] for engine in ENGINES}
        for _ in range(args.runs):
            for engine in ENGINES:
                runs[engine].append(timed_predict(model, engine))
    print(f"model {args.model or 'lstm 1x32 on sample_data/sine.csv, horizon 5'}; {args.runs} cold runs per engine; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for engine in ENGINES:
        wall = statistics.median(run[0] for run in runs[engine])
        cpu = statistics.median(run[1] for run in runs[engine])
        print(f"  --engine {engine:5s}  median wall {wall:.3f} s   median CPU {cpu:.3f} s")
    values = {engine: pd.read_csv(io.StringIO(runs[engine][0][2])).iloc[:, -1] for engine in ENGINES}
    print(f"  largest forecast difference between engines: {(values['torch'] - values['numpy']).abs().max():.3g}")


if __name__ == "__main__":
    main()
