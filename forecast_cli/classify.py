"""A classifier's answers: class probabilities from windows, the label ahead, and the backtest beside
the majority-class and persistence baselines. The classifier's side of predict.py and evaluate.py.

Never imports torch: `forward` is the torch module or numpy_engine, wrapped as numpy in, numpy out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from forecast_cli.errors import DataError
from forecast_cli.data.frame import Frame
from forecast_cli.metrics import class_scores, confusion_matrix, per_class_scores
from forecast_cli.predict import ahead_stamps, forward_windows, require_history, scaled_values
from forecast_cli.data.windows import Scaler


@dataclass
class ClassPredictor:
    """A forward function giving class scores (logits) per window, and what the classes mean."""

    forward: Callable[[np.ndarray], np.ndarray]  # (B, L, F) float32 z-scores -> (B, C) logits
    scaler: Scaler
    window: int
    horizon: int  # the label is that of the row `horizon` rows after the window's last
    classes: list[Any]
    majority: Any  # the most frequent training label: the majority baseline's answer

    def probabilities(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """(N, C) softmax probabilities for consecutive origins over a scaled (T, F) series."""
        logits = forward_windows(self.forward, scaled, origins, self.window, len(self.classes)).astype("float64")
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))  # stable softmax
        return shifted / shifted.sum(axis=1, keepdims=True)

    @property
    def majority_code(self) -> int:
        return self.classes.index(self.majority)


def label_ahead(predictor: ClassPredictor, frame: Frame, freq: str | None) -> pd.DataFrame:
    """The class of the row `horizon` rows after the data ends: `timestamp, step, class, p_<class>...`."""
    rows = require_history(frame, predictor.window)
    probabilities = predictor.probabilities(scaled_values(frame, predictor.scaler), np.array([rows]))[0]  # (C,)
    table = pd.DataFrame({"timestamp": [ahead_stamps(frame, freq, predictor.horizon)[-1]],
                          "step": [predictor.horizon],
                          "class": [predictor.classes[int(probabilities.argmax())]],
                          **{f"p_{name}": [float(p)] for name, p in zip(predictor.classes, probabilities)}})
    table.attrs.update(target=frame.labels.name, classes=list(predictor.classes))  # for JSON output
    return table


def backtest_classes(predictor: ClassPredictor, frame: Frame, origins: np.ndarray):
    """Score the predicted class from every origin against the actual label, beside the baselines.

    Baselines: majority (the most frequent training label, always) and persistence (the last observed
    label; the majority class where that is undefined, the first rows of a derived label).
    """
    from forecast_cli.evaluate import Backtest

    if len(origins) == 0:
        raise DataError("no forecast origin has a full window before it and a labelled row --horizon rows "
                        "after it; give more rows.")
    codes = frame.labels.codes
    probabilities = predictor.probabilities(scaled_values(frame, predictor.scaler), origins)  # (N, C)
    actual = codes[origins + predictor.horizon - 1]  # (N,) the label `horizon` rows after each window
    predicted = probabilities.argmax(axis=1)
    last_seen = codes[origins - 1]
    baselines = {"majority": np.full(len(origins), predictor.majority_code),
                 "persistence": np.where(last_seen >= 0, last_seen, predictor.majority_code)}
    n_classes = len(predictor.classes)
    result = {
        "task": "classify",
        "label": frame.labels.name,
        "classes": list(predictor.classes),
        "metrics": class_scores(predicted, actual, n_classes),
        "baselines": {name: class_scores(guess, actual, n_classes) for name, guess in baselines.items()},
        "confusion_matrix": confusion_matrix(predicted, actual, n_classes).tolist(),
        "per_class": per_class_scores(predicted, actual, list(predictor.classes)),
        "horizon": predictor.horizon,
        "windows": int(len(origins)),
    }
    return Backtest(result, origins, probabilities, actual)
