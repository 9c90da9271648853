"""Backtest a predictor: forecast from every origin, score each horizon step, beside naive baselines.

Returns the `evaluate --json` object; formatting belongs to report.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli import baselines
from forecast_cli.errors import ConfigError, DataError, ThresholdBreached
from forecast_cli.data.frame import Frame
from forecast_cli.metrics import METRICS, score, score_per_step
from forecast_cli.predict import Predictor, scaled_values
from forecast_cli.data.windows import origins_between, targets_at


@dataclass
class Backtest:
    """Scores plus the raw (N, H) arrays a plot needs."""

    result: dict  # the `evaluate --json` object
    origins: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray


def backtest(predictor: Predictor, frame: Frame, origins: np.ndarray, season: int | None,
             mase_scale: float) -> Backtest:
    """Score forecasts from `origins` (consecutive) against the frame's own target values;
    a classifier's predicted classes against its labels (classify.backtest_classes)."""
    if not isinstance(predictor, Predictor):
        from forecast_cli.classify import backtest_classes

        return backtest_classes(predictor, frame, origins)
    if len(origins) == 0:
        raise DataError("no forecast origin has a full window before it and a full horizon after it; "
                        "give more rows.")
    target = frame.data[frame.spec.target].to_numpy(dtype="float64")
    predicted = predictor.forecast(scaled_values(frame, predictor.scaler), origins)
    actual = targets_at(target, origins, predictor.horizon)
    result = {
        "metrics": score(predicted, actual, mase_scale),
        "per_step": score_per_step(predicted, actual, mase_scale),
        "baselines": {"naive": score(baselines.naive(target, origins, predictor.horizon), actual, mase_scale)},
        "horizon": predictor.horizon,
        "windows": int(len(origins)),
        "excluded_zero_targets": int((actual == 0).sum()),
    }
    if season:
        seasonal = baselines.seasonal_naive(target, origins, predictor.horizon, season)
        result["baselines"]["seasonal_naive"] = score(seasonal, actual, mase_scale)
    return Backtest(result, origins, predicted, np.asarray(actual))


def origins_after(frame: Frame, boundary, window: int, horizon: int) -> np.ndarray:
    """Origins whose first forecast row comes after `boundary` (a timestamp, or a row count when
    the data has no time column), each with a full window before it."""
    index = frame.data.index
    if isinstance(index, pd.DatetimeIndex):
        start = int(index.searchsorted(pd.Timestamp(boundary), side="right"))
    else:
        start = int(boundary)
    return origins_between(start, len(index), window, horizon)


def all_origins(frame: Frame, window: int, horizon: int) -> np.ndarray:
    """Every origin with a full window before it and a full horizon after it."""
    return origins_between(0, len(frame.data), window, horizon)


def evaluation_origins(frame: Frame, manifest: dict, source: str, sha256: str) -> np.ndarray:
    """Origins to score, never inside the period the model was fitted and tuned on.

    Data that reaches back into that period (the training file, a copy of it on stdin, a file with
    rows appended) is scored only after the validation part ends; data wholly after it, or without
    a time axis and not the training file, is scored from every origin with a full window before it.
    """
    window, horizon = manifest["window"], manifest["horizon"]
    recorded = manifest["data"]
    index = frame.data.index
    if isinstance(index, pd.DatetimeIndex) and len(index):
        overlaps = index[0] <= pd.Timestamp(recorded["val_end"])
    else:
        same_path = source != "-" and recorded.get("path") and Path(source).resolve() == Path(recorded["path"])
        overlaps = bool(same_path) or sha256 == recorded.get("sha256")
    if overlaps:
        return origins_after(frame, recorded["val_end"], window, horizon)
    return all_origins(frame, window, horizon)


def parse_thresholds(specs: list[str]) -> dict[str, float]:
    """`mape=0.05` style limits for `--fail-above`, checked before any work is done."""
    limits = {}
    for spec in specs:
        metric, _, value = spec.partition("=")
        metric = metric.strip().lower()
        if metric not in METRICS:
            raise ConfigError(f"--fail-above {spec!r}: unknown metric {metric!r}; use one of {', '.join(METRICS)}.")
        try:
            limits[metric] = float(value)
        except ValueError as exc:
            raise ConfigError(f"--fail-above {spec!r}: {value!r} is not a number; write e.g. mape=0.05.") from exc
        if not math.isfinite(limits[metric]):  # nothing is above nan or inf: the check could never fail
            raise ConfigError(f"--fail-above {spec!r}: {value!r} is not a finite number; write e.g. mape=0.05.")
    return limits


def check_thresholds(result: dict, limits: dict[str, float]) -> None:
    """Raise ThresholdBreached (exit 3) naming the first metric worse than its limit."""
    if limits and result.get("task") == "classify":
        raise ConfigError("--fail-above limits forecast errors; this model is a classifier, whose accuracy "
                          "is in the --json output. Leave --fail-above out.")
    for metric, limit in limits.items():
        value = result["metrics"].get(metric)
        if value is None:  # an alert that silently passed would be a check that cannot fail
            raise ConfigError(f"--fail-above {metric}: {metric} is undefined on this data (mape needs a target "
                              "other than 0, mase a training part that varies); limit another metric.")
        if value > limit:
            raise ThresholdBreached(f"{metric} {value:.4f} is above the limit {limit} set with --fail-above.")
