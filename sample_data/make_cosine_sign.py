"""Generate sample_data/cosine_sign.csv: the tutorial's sequence-classification example, the sign of a cosine.

Each hourly row holds a noisy cosine and its label, 1 when the cosine is >= 0 and 0 when not; a
classifier reads a window of rows and names the label --horizon rows ahead. The period drifts
slowly, so the sign changes do not fall on a fixed grid. Seeded, so the file is the same on every
machine: python sample_data/make_cosine_sign.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 11
ROWS = 1200
PERIOD = 40  # rows per cycle, on average


def make_cosine_sign(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    period = PERIOD * (1 + 0.15 * np.sin(2 * np.pi * steps / (7 * PERIOD)))  # drifts between 34 and 46 rows
    phase = 2 * np.pi * np.cumsum(1 / period)
    cosine = (np.cos(phase) + rng.normal(0, 0.1, rows)).round(5)
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
    return pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M"), "cosine": cosine,
                         "label": (cosine >= 0).astype(int)})


if __name__ == "__main__":
    make_cosine_sign().to_csv(Path(__file__).with_name("cosine_sign.csv"), index=False)
