"""Many series end to end (issue 11's demo): fit, predict, evaluate and plot with --id-col on a generated
long-format file, each command in its own process, with wall and CPU seconds and peak RSS, and the
ratio of `evaluate --n-jobs 2` to `--n-jobs 1` from interleaved runs (A B A B).

Run: OMP_NUM_THREADS=1 python bench/many_series.py [--series 10000] [--rows 500] [--epochs N] [--keep DIR]
(prints figures; never part of the tests)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command: list[str], cwd: Path) -> dict:
    """Run `command` under GNU time: wall seconds, the child's CPU seconds and peak RSS (MB), its output."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "__usage__ %M %U %S", *command], cwd=cwd, capture_output=True,
                          text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    usage = re.search(r"__usage__ (\d+) ([\d.]+) ([\d.]+)", done.stderr)
    return {"wall": wall, "cpu": float(usage.group(2)) + float(usage.group(3)), "rss_mb": int(usage.group(1)) / 1024,
            "stderr": done.stderr, "stdout": done.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=None, help="default: fit's own default")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="many-series-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "long.csv"
    if not csv.exists():
        subprocess.run([sys.executable, str(HERE / "make_many_series.py"), str(csv), "--series", str(args.series),
                        "--rows", str(args.rows)], check=True)
    forecast = [sys.executable, "-m", "forecast_cli"]
    epochs = ["--epochs", str(args.epochs)] if args.epochs else []
    fit = timed([*forecast, "fit", str(csv), "--target", "value", "--id-col", "id", "--model", "model", *epochs], folder)
    read = re.search(r"read .*?: ([\d,]+) rows, ([\d,]+) series in ([\d.]+)s", fit["stderr"])
    epoch_seconds = [float(s) for s in re.findall(r"epoch \d+/\d+: .*?, ([\d.]+)s", fit["stderr"])]
    print(f"fit: {fit['wall']:.1f} s wall, {fit['cpu']:.1f} CPU-s, peak RSS {fit['rss_mb']:.0f} MB; "
          f"read {read.group(1)} rows of {read.group(2)} series in {read.group(3)} s; "
          f"{len(epoch_seconds)} epochs, median {sorted(epoch_seconds)[len(epoch_seconds) // 2]:.1f} s each")
    for line in fit["stderr"].splitlines():
        if line.startswith(("test mase", "the model is", "trained on")):
            print("   ", line)
    predict = timed([*forecast, "predict", "--model", "model", "-o", "forecast.csv"], folder)
    print(f"predict: {predict['wall']:.1f} s wall, {predict['cpu']:.1f} CPU-s, peak RSS {predict['rss_mb']:.0f} MB")
    runs = {1: [], 2: []}
    for jobs in (1, 2, 1, 2):
        runs[jobs].append(timed([*forecast, "evaluate", "--model", "model", "--json", "--n-jobs", str(jobs)], folder))
    result = json.loads(runs[1][0]["stdout"])
    for jobs, done in runs.items():
        walls = [r["wall"] for r in done]
        print(f"evaluate --n-jobs {jobs}: wall {walls[0]:.1f} / {walls[1]:.1f} s, CPU {done[0]['cpu']:.1f} s, "
              f"peak RSS {max(r['rss_mb'] for r in done):.0f} MB")
    ratio = sum(r["wall"] for r in runs[1]) / sum(r["wall"] for r in runs[2])
    print(f"evaluate speed-up of --n-jobs 2 over 1 (interleaved, wall): {ratio:.2f}x")
    share = result["aggregate"]["share_beating"]
    print(f"aggregate: median mase {result['aggregate']['median']['mase']:.3f}; beats naive on "
          f"{share['naive']:.1%}, seasonal naive on {share.get('seasonal_naive') or 0:.1%}, linear on "
          f"{share.get('linear') or 0:.1%} of {result['aggregate']['series']:,} series")
    plot = timed([*forecast, "plot", "--model", "model", "--out", "grid.png"], folder)
    print(f"plot: {plot['wall']:.1f} s wall; {folder / 'grid.png'}")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; files in {folder}")


if __name__ == "__main__":
    main()
