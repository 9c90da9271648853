"""Naive forecasts every model is measured against, on the same origins and horizon.

Each returns (N, H) in original units for origins t (first forecast row); NaN where undefined.
"""

from __future__ import annotations

import numpy as np


def naive(target: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Tomorrow equals today: the last observed value y[t-1] for every step."""
    return np.repeat(target[origins - 1][:, None], horizon, axis=1)


def seasonal_naive(target: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Each step repeats the value one season earlier: y[t+j - season*ceil((j+1)/season)]."""
    steps = np.arange(horizon)
    lag = season * np.ceil((steps + 1) / season).astype(int)  # (H,)
    index = origins[:, None] + steps[None, :] - lag[None, :]  # (N, H)
    values = target[np.clip(index, 0, None)].astype("float64")
    values[index < 0] = np.nan
    return values
