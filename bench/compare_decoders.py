"""Test relative error (mape) of LSTM and GRU, direct and seq2seq, beside the naive baseline; and the
cosine-sign classifier's accuracy beside the majority and persistence baselines.

    python bench/compare_decoders.py [--horizon 5] [extra fit options, e.g. --epochs 30]

Each figure comes from a fresh `forecast fit` (default options otherwise) and its report.json:
the test part's backtest, the last --test-frac of the rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERIES = {"sine.csv": "value", "sh000001_daily.csv": "close"}


def fit(data: str, options: list[str], out: Path) -> tuple[dict, float]:
    """Run `forecast fit` and return its report.json and the seconds it took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "forecast_cli", "fit", str(ROOT / "sample_data" / data), *options,
                    "--out", str(out), "--quiet"], check=True)
    return json.loads((out / "report.json").read_text()), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", default="5")
    args, extra = parser.parse_known_args()
    print(f"horizon {args.horizon}; extra fit options: {' '.join(extra) or 'none'}")
    print(f"{'data':20s} {'cell':5s} {'decoder':8s} {'mape':>8s} {'naive':>8s} {'ratio':>6s} {'fit s':>6s}")
    with tempfile.TemporaryDirectory() as scratch:
        for data, target in SERIES.items():
            for cell in ("lstm", "gru"):
                for decoder in ("direct", "seq2seq"):
                    options = ["--target", target, "--cell", cell, "--decoder", decoder, "--horizon", args.horizon]
                    report, seconds = fit(data, options + extra, Path(scratch) / f"{data}-{cell}-{decoder}")
                    mape, naive = report["metrics"]["mape"], report["baselines"]["naive"]["mape"]
                    print(f"{data:20s} {cell:5s} {decoder:8s} {mape:8.4f} {naive:8.4f} {mape / naive:6.3f} "
                          f"{seconds:6.1f}", flush=True)
        for cell in ("lstm", "gru"):
            options = ["--task", "classify", "--target", "label", "--cell", cell, "--horizon", args.horizon]
            report, seconds = fit("cosine_sign.csv", options + extra, Path(scratch) / f"cosine-{cell}")
            scores, baselines = report["metrics"], report["baselines"]
            print(f"cosine_sign.csv {cell}: accuracy {scores['accuracy']:.4f}, balanced {scores['balanced_accuracy']:.4f}"
                  f" vs majority {baselines['majority']['accuracy']:.4f}, persistence "
                  f"{baselines['persistence']['accuracy']:.4f} ({report['windows']} test windows, {seconds:.1f} s)",
                  flush=True)


if __name__ == "__main__":
    main()
