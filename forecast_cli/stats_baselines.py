"""Statistical baselines for `evaluate` when the optional `stats` extra is installed
(`pip install 'forecast-cli[stats]'`: statsforecast): AutoETS, AutoARIMA and AutoTheta, scored on the
model's own forecast origins beside naive, seasonal naive and linear.

Protocol: each model is fitted once, on the target before the first scored origin (for the training
file that is the data before the test part: train and validation), with the manifest's season; it is
then rolled forward without refitting: at every origin its fitted parameters are applied to the
history up to that origin (statsforecast's `forward`) and the next H values forecast. To keep the cost
bounded on long series each model reads at most its HISTORY rows (the most recent) when fitting and
rolling forward, and over MAX_ORIGINS origins they are scored on every k-th origin (`every` in the
result's `statistical` entry, which also gives the model's and naive's scores on those origins).

Without statsforecast nothing here is imported (installed() looks the package up without loading it)
and evaluate's output is what it was. statsforecast is imported only inside `forecasts`.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
import warnings

import numpy as np

from forecast_cli.metrics import score

MODELS = ("AutoETS", "AutoARIMA", "AutoTheta")
SWITCH = "FORECAST_STATS_BASELINES"  # "0": leave them out even where statsforecast is installed
MAX_ORIGINS = 1000  # more origins than this: every k-th, so AutoARIMA's forward passes stay within seconds
# Rows of history a model reads when it is fitted and at each origin: AutoARIMA's search costs seconds
# per hundred rows at season 24 (minutes at a thousand), ETS and Theta far less.
HISTORY = {"AutoETS": 2000, "AutoTheta": 2000}
ARIMA_SEASONS = 8  # AutoARIMA reads the last max(ARIMA_MIN_ROWS, 8 seasons) rows
ARIMA_MIN_ROWS = 120


def installed() -> bool:
    """Whether statsforecast can be imported, found without importing it; False when the environment sets
    FORECAST_STATS_BASELINES=0 (the extra installed, its baselines not wanted: they cost seconds)."""
    if os.environ.get(SWITCH) == "0":
        return False
    try:
        return importlib.util.find_spec("statsforecast") is not None
    except (ImportError, ValueError):
        return False


def history_rows(name: str, season: int | None) -> int:
    if name == "AutoARIMA":
        return max(ARIMA_MIN_ROWS, ARIMA_SEASONS * (season or 1))
    return HISTORY[name]


def scored_origins(origins: np.ndarray) -> tuple[np.ndarray, int]:
    """The origins the statistical models are scored on, and the step between them (1: all)."""
    every = max(1, math.ceil(len(origins) / MAX_ORIGINS))
    return origins[::every], every


def forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, season: int | None) -> tuple[dict, dict]:
    """(name -> (N, H) forecasts, NaN where a model could not forecast; name -> why it failed) for the
    origins given, each model fitted on the target before origins[0]."""
    from statsforecast import models

    results, failures = {}, {}
    for name in MODELS:
        rows = history_rows(name, season)
        start = max(0, int(origins[0]) - rows)
        predicted = np.full((len(origins), horizon), np.nan)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model = getattr(models, name)(season_length=season or 1).fit(target[start: int(origins[0])])
                for row, origin in enumerate(origins):
                    history = target[max(0, int(origin) - rows): int(origin)]
                    predicted[row] = model.forward(y=history, h=horizon)["mean"]
        except Exception as exc:  # statsforecast's own errors (too short a series for the season, ...)
            failures[name] = f"{type(exc).__name__}: {str(exc).strip()[:120]}"
            if np.isnan(predicted).all():
                continue
        results[name] = predicted
    return results, failures


def add_to(result: dict, target: np.ndarray, origins: np.ndarray, predicted: np.ndarray, actual: np.ndarray,
           season: int | None, mase_scale: float) -> dict:
    """The backtest `result` with AutoETS, AutoARIMA and AutoTheta among its baselines (on every origin,
    or every k-th beyond MAX_ORIGINS) and a `statistical` entry saying how they were scored."""
    started = time.perf_counter()
    chosen, every = scored_origins(origins)
    rows = slice(None, None, every)
    made, failures = forecasts(np.asarray(target, dtype="float64"), chosen, result["horizon"], season)
    for name, forecast in made.items():
        result["baselines"][name] = score(forecast, actual[rows], mase_scale)
    naive = np.repeat(target[chosen - 1][:, None], result["horizon"], axis=1)
    result["statistical"] = {
        "library": "statsforecast", "season": season or 1, "origins": int(len(chosen)), "every": every,
        "fitted_on": "the target before the first scored origin, once; rolled forward without refitting",
        "history_rows": {name: history_rows(name, season) for name in MODELS},
        "model_on_these_origins": score(predicted[rows], actual[rows], mase_scale),
        "naive_on_these_origins": score(naive, actual[rows], mase_scale),
        "failed": failures, "seconds": round(time.perf_counter() - started, 3)}
    return result
