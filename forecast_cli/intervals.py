"""Calibrating a quantile forecaster's intervals on data it was not trained on (conformalized quantile
regression, Romano, Patterson and Candès 2019), and applying that calibration.

The network's quantiles, trained with the pinball loss on a short series, are usually too narrow: a
head that starts at the naive forecast spreads its levels slowly, and the training errors it learns
from are smaller than the errors ahead. So after training, on the validation part (or, when that holds
fewer than MIN_ORIGINS origins, the training and validation parts together), each interval pair
(lower, upper) and each horizon step gets one offset c: the finite-sample `nominal` quantile of the
conformity scores max(lower - y, y - upper), floored at 0. predict and evaluate then use lower - c and
upper + c, levels re-sorted. Levels without a partner on the other side of 0.5 are left as trained.
NumPy only; offsets are in the target's units.

Widening only (c >= 0), never narrowing: the calibration origins come before the test part, and the
errors ahead are rarely smaller than those behind (a trending level, in-sample training errors when
validation is short). On bench/intervals.py's 16 fits the mean test coverage of the 80% interval is
0.759 raw, 0.778 widening only and 0.743 when c may go negative (a generated daily series at horizon 1:
0.85 raw, 0.66 narrowed); widening only keeps the trained band wherever it is wide enough and lifts it
where it is not.
"""

from __future__ import annotations

import math
import numpy as np

from forecast_cli.store.manifest import Calibration

MIN_ORIGINS = 20  # validation origins below which the training origins join the calibration set


def pairs(quantiles: tuple[float, ...]) -> list[tuple[int, int]]:
    """(lower, upper) level indices from the outside in, each lower below 0.5 and upper above it."""
    lows = [i for i, level in enumerate(quantiles) if level < 0.5]
    highs = [i for i, level in enumerate(quantiles) if level > 0.5][::-1]
    return list(zip(lows, highs))


def fit_calibration(levels: np.ndarray, actual: np.ndarray, quantiles: tuple[float, ...], part: str,
                    widen_only: bool = True) -> Calibration:
    """Offsets from uncalibrated forecasts (N, H, Q) and actual values (N, H); `widen_only` False lets
    them narrow too (bench/intervals.py measures both)."""
    offsets = np.zeros((levels.shape[1], len(pairs(quantiles))))
    for column, (low, high) in enumerate(pairs(quantiles)):
        nominal = quantiles[high] - quantiles[low]
        scores = np.maximum(levels[:, :, low] - actual, actual - levels[:, :, high])  # (N, H)
        for step in range(levels.shape[1]):
            finite = np.sort(scores[:, step][np.isfinite(scores[:, step])])
            if finite.size:
                rank = min(math.ceil((finite.size + 1) * nominal), finite.size)  # finite-sample rank, 1-based
                offsets[step, column] = max(float(finite[rank - 1]), 0.0) if widen_only else float(finite[rank - 1])
    return Calibration([[float(value) for value in row] for row in offsets], part, int(levels.shape[0]))


def apply_calibration(levels: np.ndarray, calibration: Calibration | None, quantiles: tuple[float, ...],
                      point: int) -> np.ndarray:
    """(N, H, Q) forecasts with each pair moved outwards by its step's offset (the point forecast, column
    `point`, unchanged: no level crosses it), each step's levels ascending."""
    if calibration is None:
        return levels
    offsets = np.asarray(calibration.offsets, dtype=np.float64)  # (H, P)
    moved = levels.copy()
    middle = levels[:, :, point]
    for column, (low, high) in enumerate(pairs(quantiles)):
        moved[:, :, low] = np.minimum(levels[:, :, low] - offsets[:, column], middle)
        moved[:, :, high] = np.maximum(levels[:, :, high] + offsets[:, column], middle)
    return np.sort(moved, axis=2)
