"""One interface for what a trained model answers: the forecast ahead of the data, and a backtest
over forecast origins. A forecaster (`ValuePredictor`) and a classifier (`ClassPredictor`) both
implement it, so fit's report, predict, evaluate and plot call the same two methods and never
branch on the kind of model.

Never imports torch: `forward` (forward.py) is numpy in, numpy out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli import baselines
from forecast_cli.config import point_quantile, quantile_name
from forecast_cli.data.frame import Frame
from forecast_cli.data.timeindex import future_timestamps
from forecast_cli.data.windows import Scaler, targets_at
from forecast_cli.errors import DataError
from forecast_cli.forward import Forward, forward_windows, scaled_window_rows
from forecast_cli.intervals import apply_calibration
from forecast_cli.metrics import class_scores, confusion_matrix, per_class_scores, quantile_scores, score, score_per_step
from forecast_cli.store.manifest import Calibration


@dataclass
class Backtest:
    """Scores plus the raw arrays a plot needs: forecasts (N, H) or class probabilities (N, C)."""

    result: dict  # the `evaluate --json` object
    origins: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray
    levels: np.ndarray | None = None  # a quantile forecaster's (N, H, Q) forecasts, levels ascending


@dataclass
class Predictor(ABC):
    """A forward function on scaled windows and what is needed to read its outputs."""

    forward: Forward
    scaler: Scaler
    window: int
    horizon: int

    @abstractmethod
    def ahead(self, frame: Frame, freq: str | None) -> pd.DataFrame:
        """The answer for the rows after the frame's last: a table starting `timestamp, step`."""

    @abstractmethod
    def backtest(self, frame: Frame, origins: np.ndarray, season: int | None, mase_scale: float) -> Backtest:
        """Answers from consecutive `origins` (first forecast row) scored against the frame's own values."""

    def outputs(self, frame: Frame, origins: np.ndarray, width: int) -> np.ndarray:
        """(N, width) raw forward outputs for consecutive origins over the frame."""
        scaled, origins = scaled_window_rows(frame, self.scaler, origins, self.window)
        return forward_windows(self.forward, scaled, origins, self.window, width)


@dataclass
class ValuePredictor(Predictor):
    """A forecaster: (N, H) target values in original units; `baseline_models` are scored beside the
    free baselines in every backtest (the linear baseline fitted with it: name -> forward function).
    With `quantiles`, the model forecasts those levels per step (Q of them) and its point forecast is
    the level nearest 0.5 (the median when 0.5 is among them); its baselines stay point forecasts."""

    baseline_models: dict[str, Forward] = field(default_factory=dict)
    quantiles: tuple[float, ...] = ()
    calibration: Calibration | None = None  # the intervals' widening fitted on validation (intervals.py)

    @property
    def quantile_names(self) -> list[str]:
        """The levels' column suffixes and JSON keys: p10 for 0.1, p2.5 for 0.025 (config.quantile_name)."""
        return [quantile_name(level) for level in self.quantiles]

    def forecast(self, frame: Frame, origins: np.ndarray, forward: Forward | None = None) -> np.ndarray:
        """Point forecasts (N, H) in original units for consecutive origins (by `forward`, default the model's)."""
        if forward is None and self.quantiles:
            return self.levels(frame, origins)[:, :, point_quantile(self.quantiles)]
        scaled, origins = scaled_window_rows(frame, self.scaler, origins, self.window)
        outputs = forward_windows(forward or self.forward, scaled, origins, self.window, self.horizon)
        return self.scaler.target_to_original(outputs)

    def levels(self, frame: Frame, origins: np.ndarray) -> np.ndarray:
        """The model's quantile forecasts (N, H, Q) in original units, ascending along the last axis,
        with the calibration's widening applied."""
        width = self.horizon * len(self.quantiles)
        scaled, origins = scaled_window_rows(frame, self.scaler, origins, self.window)
        outputs = forward_windows(self.forward, scaled, origins, self.window, width)
        levels = self.scaler.target_to_original(outputs).reshape(len(outputs), self.horizon, len(self.quantiles))
        return apply_calibration(levels, self.calibration, self.quantiles, point_quantile(self.quantiles))

    def ahead(self, frame: Frame, freq: str | None) -> pd.DataFrame:
        """The next `horizon` target values after the last row, as `timestamp, step, <target>`, then with
        quantiles one column per level (`<target>_p10`, ...); `<target>` is the point level's copy."""
        rows = require_history(frame, self.window)
        target = frame.spec.target
        columns = {"timestamp": ahead_stamps(frame, freq, self.horizon), "step": np.arange(1, self.horizon + 1)}
        if not self.quantiles:
            return pd.DataFrame({**columns, target: self.forecast(frame, np.array([rows]))[0]})
        levels = self.levels(frame, np.array([rows]))[0]  # (H, Q)
        columns[target] = levels[:, point_quantile(self.quantiles)]
        columns.update({f"{target}_{name}": levels[:, index] for index, name in enumerate(self.quantile_names)})
        table = pd.DataFrame(columns)
        table.attrs.update(target=target, quantiles=dict(zip(self.quantile_names, self.quantiles)))  # for JSON output
        return table

    def backtest(self, frame: Frame, origins: np.ndarray, season: int | None, mase_scale: float) -> Backtest:
        """Scores per metric and per horizon step, beside naive and (with a season) seasonal naive."""
        if len(origins) == 0:
            raise DataError("no forecast origin has a full window before it and a full horizon after it; "
                            "give more rows.")
        target = frame.data[frame.spec.target].to_numpy(dtype="float64")
        levels = self.levels(frame, origins) if self.quantiles else None
        predicted = levels[:, :, point_quantile(self.quantiles)] if self.quantiles else self.forecast(frame, origins)
        actual = targets_at(target, origins, self.horizon)
        result = {
            "metrics": score(predicted, actual, mase_scale),
            "per_step": score_per_step(predicted, actual, mase_scale),
            "baselines": {"naive": score(baselines.naive(target, origins, self.horizon), actual, mase_scale)},
            "horizon": self.horizon,
            "windows": int(len(origins)),
            "excluded_zero_targets": int((actual == 0).sum()),
        }
        if season:
            seasonal = baselines.seasonal_naive(target, origins, self.horizon, season)
            result["baselines"]["seasonal_naive"] = score(seasonal, actual, mase_scale)
        for name, forward in self.baseline_models.items():
            result["baselines"][name] = score(self.forecast(frame, origins, forward), actual, mase_scale)
        if self.quantiles:
            result["point_quantile"] = self.quantile_names[point_quantile(self.quantiles)]
            result["quantiles"], result["intervals"] = quantile_scores(levels, np.asarray(actual), self.quantiles,
                                                                       self.quantile_names)
        return Backtest(result, origins, predicted, np.asarray(actual), levels)


@dataclass
class ClassPredictor(Predictor):
    """A classifier: class probabilities for the label `horizon` rows after each window's last row."""

    classes: list[Any] = None  # class names in code order
    majority: Any = None  # the most frequent training label: the majority baseline's answer

    def probabilities(self, frame: Frame, origins: np.ndarray) -> np.ndarray:
        """(N, C) softmax probabilities for consecutive origins."""
        logits = self.outputs(frame, origins, len(self.classes)).astype("float64")
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))  # stable softmax
        return shifted / shifted.sum(axis=1, keepdims=True)

    def ahead(self, frame: Frame, freq: str | None) -> pd.DataFrame:
        """The class of the row `horizon` rows after the data ends: `timestamp, step, class, p_<class>...`."""
        rows = require_history(frame, self.window)
        probabilities = self.probabilities(frame, np.array([rows]))[0]  # (C,)
        table = pd.DataFrame({"timestamp": [ahead_stamps(frame, freq, self.horizon)[-1]], "step": [self.horizon],
                              "class": [self.classes[int(probabilities.argmax())]],
                              **{f"p_{name}": [float(p)] for name, p in zip(self.classes, probabilities)}})
        table.attrs.update(target=frame.labels.name, classes=list(self.classes))  # for JSON output
        return table

    def backtest(self, frame: Frame, origins: np.ndarray, season: int | None, mase_scale: float) -> Backtest:
        """The predicted class from every origin against the actual label, beside majority (the most
        frequent training label) and persistence (the last observed label; the majority class where
        that is undefined, the first rows of a derived label). `season` and `mase_scale` are unused."""
        if len(origins) == 0:
            raise DataError("no forecast origin has a full window before it and a labelled row --horizon rows "
                            "after it; give more rows.")
        codes = frame.labels.codes
        probabilities = self.probabilities(frame, origins)  # (N, C)
        actual = codes[origins + self.horizon - 1]  # (N,) the label `horizon` rows after each window
        predicted = probabilities.argmax(axis=1)
        majority = self.classes.index(self.majority)
        last_seen = codes[origins - 1]
        guesses = {"majority": np.full(len(origins), majority),
                   "persistence": np.where(last_seen >= 0, last_seen, majority)}
        n_classes = len(self.classes)
        result = {
            "task": "classify",
            "label": frame.labels.name,
            "classes": list(self.classes),
            "metrics": class_scores(predicted, actual, n_classes),
            "baselines": {name: class_scores(guess, actual, n_classes) for name, guess in guesses.items()},
            "confusion_matrix": confusion_matrix(predicted, actual, n_classes).tolist(),
            "per_class": per_class_scores(predicted, actual, list(self.classes)),
            "horizon": self.horizon,
            "windows": int(len(origins)),
        }
        return Backtest(result, origins, probabilities, actual)


def make_predictor(forward: Forward, scaler: Scaler, window: int, horizon: int,
                   classification=None, baseline_models: dict[str, Forward] | None = None,
                   quantiles: tuple[float, ...] = (), calibration: Calibration | None = None) -> Predictor:
    """A forecaster (scoring `baseline_models` beside it; forecasting `quantiles` if given), or for a
    classifier (given its manifest.Classification) a ClassPredictor."""
    if classification is None:
        return ValuePredictor(forward, scaler, window, horizon, dict(baseline_models or {}), tuple(quantiles),
                              calibration)
    return ClassPredictor(forward, scaler, window, horizon, list(classification.classes), classification.majority)


def require_history(frame: Frame, window: int) -> int:
    """The frame's row count, which must hold the `window` rows a forecast after its end reads."""
    rows = len(frame.data)
    if rows < window:
        raise DataError(f"the data has {rows} usable rows but the model needs the last {window}.")
    return rows


def ahead_stamps(frame: Frame, freq: str | None, steps: int) -> list[str]:
    """Timestamps of the `steps` rows after the last one, as text; empty strings where time is unknown."""
    if freq and isinstance(frame.data.index, pd.DatetimeIndex):
        future = future_timestamps(frame.data.index[-1], freq, steps)
        return format_timestamps(future, dates_only=_all_midnight(frame.data.index) and _all_midnight(future))
    return [""] * steps


def format_timestamps(stamps: pd.DatetimeIndex, dates_only: bool) -> list[str]:
    """Dates alone for date-only data, else date and time."""
    if dates_only:
        return [t.strftime("%Y-%m-%d") for t in stamps]
    return [t.isoformat(sep=" ") for t in stamps]


def _all_midnight(stamps: pd.DatetimeIndex) -> bool:
    """Judged on the history too: an hourly series' next step may fall on midnight."""
    return bool((stamps == stamps.normalize()).all())
