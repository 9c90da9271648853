"""Generate sample_data/sine.csv: the tutorial's curve-fitting example, a noisy sine over hourly steps.

Seeded, so the file is the same on every machine: python sample_data/make_sine.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
ROWS = 1200
PERIOD = 50  # rows per cycle


def make_sine(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    value = 10 + 3 * np.sin(2 * np.pi * steps / PERIOD) + rng.normal(0, 0.05, rows)
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
    return pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M"), "value": value.round(5)})


if __name__ == "__main__":
    make_sine().to_csv(Path(__file__).with_name("sine.csv"), index=False)
