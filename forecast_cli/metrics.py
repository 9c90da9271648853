"""Forecast error measures on (N, H) arrays in original units.

Written by hand because they are five lines each and the definitions must be exact:
`mape` is the relative error mean(|ŷ−y|/|y|) as a fraction over points with y ≠ 0.
"""

from __future__ import annotations

import numpy as np

METRICS = ("mape", "smape", "mae", "rmse", "mase")


def score(predicted: np.ndarray, actual: np.ndarray, mase_scale: float) -> dict[str, float | None]:
    """All metrics over every finite point; None where a metric has no defined value."""
    valid = np.isfinite(predicted) & np.isfinite(actual)
    p, a = predicted[valid], actual[valid]
    if a.size == 0:
        return {name: None for name in METRICS}
    error = np.abs(p - a)
    nonzero = a != 0
    denominator = np.abs(a) + np.abs(p)
    smape_terms = np.divide(2 * error, denominator, out=np.zeros_like(error), where=denominator > 0)
    mae = float(error.mean())
    return {
        "mape": float((error[nonzero] / np.abs(a[nonzero])).mean()) if nonzero.any() else None,
        "smape": float(smape_terms.mean()),
        "mae": mae,
        "rmse": float(np.sqrt((error**2).mean())),
        "mase": mae / mase_scale if mase_scale > 0 else None,
    }


def score_per_step(predicted: np.ndarray, actual: np.ndarray, mase_scale: float) -> list[dict]:
    """One metrics dict per horizon step (column), numbered from 1."""
    return [{"step": step + 1, **score(predicted[:, step], actual[:, step], mase_scale)}
            for step in range(predicted.shape[1])]


def naive_scale(train_target: np.ndarray) -> float:
    """MASE denominator: the in-sample MAE of the one-step naive forecast on the training part."""
    if len(train_target) < 2:
        return 0.0
    return float(np.abs(np.diff(train_target)).mean())
