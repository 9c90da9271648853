"""Forecast error measures on (N, H) arrays in original units, and classification scores on class codes.

Written by hand because they are five lines each and the definitions must be exact:
`mape` is the relative error mean(|ŷ−y|/|y|) as a fraction over points with y ≠ 0;
`balanced_accuracy` is the mean recall over classes that occur; `macro_f1` the mean F1 over classes
that occur or are predicted (sklearn's definitions, with F1 = 0 where a class is never right).
"""

from __future__ import annotations

import numpy as np

METRICS = ("mape", "smape", "mae", "rmse", "mase")
CLASS_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


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
        "rmse": _root_mean_square(error),
        "mase": mae / mase_scale if mase_scale > 0 else None,
    }


def _root_mean_square(error: np.ndarray) -> float:
    """sqrt(mean(error**2)) without squaring the raw errors, whose squares under- or overflow far from 1."""
    largest = float(error.max(initial=0.0))
    if not 0 < largest < np.inf:
        return largest
    return float(np.sqrt(((error / largest) ** 2).mean()) * largest)


def score_per_step(predicted: np.ndarray, actual: np.ndarray, mase_scale: float) -> list[dict]:
    """One metrics dict per horizon step (column), numbered from 1."""
    return [{"step": step + 1, **score(predicted[:, step], actual[:, step], mase_scale)}
            for step in range(predicted.shape[1])]


def naive_scale(train_target: np.ndarray) -> float:
    """MASE denominator: the in-sample MAE of the one-step naive forecast on the training part."""
    if len(train_target) < 2:
        return 0.0
    return float(np.abs(np.diff(train_target)).mean())


def confusion_matrix(predicted: np.ndarray, actual: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) counts: row = actual class code, column = predicted class code."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (actual, predicted), 1)
    return counts


def class_scores(predicted: np.ndarray, actual: np.ndarray, n_classes: int) -> dict[str, float | None]:
    """Accuracy, balanced accuracy and macro F1 of predicted against actual class codes (N,)."""
    if actual.size == 0:
        return {name: None for name in CLASS_METRICS}
    counts = confusion_matrix(predicted, actual, n_classes)
    hits = np.diag(counts).astype("float64")
    occurs, predicted_count = counts.sum(axis=1), counts.sum(axis=0)
    recall = hits[occurs > 0] / occurs[occurs > 0]
    scored = (occurs + predicted_count) > 0
    f1 = 2 * hits[scored] / (occurs[scored] + predicted_count[scored])
    return {"accuracy": float(hits.sum() / actual.size), "balanced_accuracy": float(recall.mean()),
            "macro_f1": float(f1.mean())}


def per_class_scores(predicted: np.ndarray, actual: np.ndarray, classes: list) -> list[dict]:
    """Precision, recall, F1 and support per class; None where a class is never predicted or never occurs."""
    counts = confusion_matrix(predicted, actual, len(classes))
    rows = []
    for code, name in enumerate(classes):
        hits, occurs, chosen = int(counts[code, code]), int(counts[code].sum()), int(counts[:, code].sum())
        rows.append({"class": name, "precision": hits / chosen if chosen else None,
                     "recall": hits / occurs if occurs else None,
                     "f1": 2 * hits / (occurs + chosen) if occurs + chosen else None, "support": occurs})
    return rows


def quantile_scores(levels: np.ndarray, actual: np.ndarray, quantiles: tuple[float, ...],
                    names: list[str]) -> tuple[dict[str, dict], list[dict]]:
    """Quantile forecasts (N, H, Q) against actual values (N, H), over every finite point.

    Per level (keyed by `names`, e.g. p10): the pinball loss mean(max(q(y−f), (q−1)(y−f))) in the
    target's units, and `below`, the share of actual values at or under the forecast (ideally q).
    Intervals pair the levels from the outside in (first with last, second with second-to-last...):
    `coverage` is the share of actual values inside [lower, upper], ideally `nominal` = upper − lower;
    `mean_width` the average distance between the two forecasts.
    """
    scores = {}
    for index, (level, name) in enumerate(zip(quantiles, names)):
        forecast = levels[:, :, index]
        valid = np.isfinite(forecast) & np.isfinite(actual)
        error = actual[valid] - forecast[valid]
        scores[name] = {"level": level,
                        "pinball": float(np.maximum(level * error, (level - 1) * error).mean()) if error.size else None,
                        "below": float((error <= 0).mean()) if error.size else None}
    intervals = []
    for index in range(len(quantiles) // 2):
        lower, upper = levels[:, :, index], levels[:, :, -1 - index]
        valid = np.isfinite(lower) & np.isfinite(upper) & np.isfinite(actual)
        inside = (lower[valid] <= actual[valid]) & (actual[valid] <= upper[valid])
        intervals.append({"lower": quantiles[index], "upper": quantiles[-1 - index],
                          "nominal": round(quantiles[-1 - index] - quantiles[index], 10),
                          "coverage": float(inside.mean()) if inside.size else None,
                          "mean_width": float((upper[valid] - lower[valid]).mean()) if inside.size else None})
    return scores, intervals
