"""`evaluate`: backtest a loaded model from every origin it was not fitted or tuned on, beside the
naive baselines (predictors.py scores); the origins rule and the `--fail-above` thresholds.

Returns the `evaluate --json` object; formatting belongs to report.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli import stats_baselines
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table
from forecast_cli.data.windows import origins_between
from forecast_cli.errors import ConfigError, DataError, ThresholdBreached
from forecast_cli.loaded import LoadedModel, Source
from forecast_cli.many import score_series
from forecast_cli.metrics import METRICS
from forecast_cli.predictors import Backtest
from forecast_cli.store.manifest import Manifest


@dataclass
class Evaluation:
    """What a backtest read and scored: the frame (plot draws it too) and the backtest, if any origin."""

    frame: Frame
    table: Table
    backtest: Backtest | None


def evaluate(model: LoadedModel, data: Source | None, warn: Callable[[str], None],
             require_origins: bool = True, statistical: bool = False, whole: bool = False) -> Evaluation:
    """Backtest `model` on `data` (default: the training data) from every origin outside the period
    it was fitted and tuned on. No origin to score is an error (the predictor says what is missing),
    or with `require_origins` False an Evaluation whose `backtest` is None (a plot still draws).
    `statistical`: also score AutoETS, AutoARIMA and AutoTheta when statsforecast is installed
    (stats_baselines.py; `evaluate` asks for them, `plot` does not). A file is read from shortly before
    the validation end where that scores the same (`scored_rows`), unless `whole` (a plot draws all of it)."""
    manifest = model.manifest
    whole = whole or (statistical and manifest.task == "forecast" and stats_baselines.installed())  # they fit on all
    frame, table, source = model.read(data, warn, **({} if whole else scored_rows(manifest)))
    training_data = model.is_training_data(source, table)
    origins = evaluation_origins(frame, manifest, training_data)
    if len(origins) == 0 and not require_origins:
        return Evaluation(frame, table, None)
    if len(origins) == 0:
        _refuse_data_inside_the_fit_period(frame, manifest, training_data, table.name)
    backtest = model.predictor.backtest(frame, origins, manifest.season, manifest.mase_scale)
    if statistical and manifest.task == "forecast" and stats_baselines.installed():
        target = frame.data[frame.spec.target].to_numpy(dtype="float64")
        stats_baselines.add_to(backtest.result, target, origins, backtest.predicted, backtest.actual,
                               manifest.season, manifest.mase_scale)
    return Evaluation(frame, table, backtest)


def evaluate_many(model: LoadedModel, data: Source | None, warn: Callable[[str], None], ids: list[str] | None = None,
                  n_jobs: int = 1, backend: str = "loky") -> dict:
    """A many-series model's backtest: each series (or those in `ids`) scored from its own origins by the
    rule of `evaluation_origins` with that series' validation end, then aggregated (many.aggregate).
    The per-series work runs through joblib with `n_jobs` workers on `backend`."""
    if n_jobs < 1 and n_jobs != -1:
        raise ConfigError(f"--n-jobs must be 1 or more (or -1 for every core), not {n_jobs}.")
    panel, table, source = model.read_panel(data, warn)
    panel = panel.select(ids, table.name)
    manifest, stats = model.manifest, model.series
    origins = series_origins(panel, model, model.is_training_data(source, table))
    unknown = sum(series not in stats.position() for series in panel.ids)
    if unknown:
        warn(f"{table.name}: {unknown} series were not in the training data; they are not scored.")
    return score_series(panel, stats, model.forward_of_series(), manifest.window, manifest.horizon, origins,
                        manifest.season, getattr(model.predictor, "baseline_models", {}), n_jobs, backend)


def series_origins(panel, model: LoadedModel, training_data: bool) -> list[np.ndarray]:
    """Each series' origins by the rule of `evaluation_origins`, with that series' own validation end;
    none for a series the model was not trained on."""
    manifest, stats = model.manifest, model.series
    position = stats.position()
    origins = []
    for series, frame in zip(panel.ids, panel.frames):
        if series not in position:
            origins.append(np.arange(0))
            continue
        end = int(stats.val_end[position[series]])
        timed = isinstance(frame.data.index, pd.DatetimeIndex)
        boundary = pd.Timestamp(end) if timed else end
        overlaps = frame.data.index[0] <= boundary if timed else training_data
        origins.append(origins_after(frame, boundary, manifest.window, manifest.horizon) if overlaps
                       else all_origins(frame, manifest.window, manifest.horizon))
    return origins


def scored_rows(manifest: Manifest) -> dict:
    """`model.read`'s arguments for a partial read: the rows after the validation end and, before them, the
    context every score reads (a window, a season for seasonal naive, a horizon for a direction label);
    none without a time column (the end is then a row count, which only a whole read can place)."""
    if not isinstance(manifest.data.val_end, str):
        return {}
    val_end = pd.Timestamp(manifest.data.val_end)
    context = max(manifest.window, manifest.season or 0, manifest.horizon) + 1

    def enough(frame: Frame) -> bool:  # enough rows at or before the validation end
        return int(frame.data.index.searchsorted(val_end, side="right")) >= context

    return {"last_rows": manifest.data.splits.get("test", 0) + context, "enough": enough}


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


def evaluation_origins(frame: Frame, manifest: Manifest, training_data: bool) -> np.ndarray:
    """Origins to score, never inside the period the model was fitted and tuned on.

    Data that reaches back into that period (the training file, a copy of it on stdin, a file with
    rows appended) is scored only after the validation part ends; data wholly after it, or without
    a time axis and not the training data (`training_data`: the same bytes or the recorded file), is
    scored from every origin with a full window before it.
    """
    window, horizon = manifest.window, manifest.horizon
    recorded = manifest.data
    index = frame.data.index
    if isinstance(index, pd.DatetimeIndex) and len(index):
        overlaps = index[0] <= pd.Timestamp(recorded.val_end)
    else:
        overlaps = training_data
    if overlaps:
        return origins_after(frame, recorded.val_end, window, horizon)
    return all_origins(frame, window, horizon)


# --fail-above names beyond the metrics: the model's MASE divided by a baseline's (best: the better of
# naive and seasonal naive), so "mase_vs_naive=1.0" fails when the model is no better than naive.
RATIOS = {"mase_vs_naive": ("naive",), "mase_vs_seasonal_naive": ("seasonal_naive",),
          "mase_vs_linear": ("linear",), "mase_vs_best": ("naive", "seasonal_naive")}
def _refuse_data_inside_the_fit_period(frame: Frame, manifest: Manifest, training_data: bool, name: str) -> None:
    """No origin because the data stops before (or too soon after) the validation part ends: say that,
    rather than the predictor's general "no forecast origin"."""
    index, val_end, horizon = frame.data.index, manifest.data.val_end, manifest.horizon
    if isinstance(index, pd.DatetimeIndex) and len(index):
        if index[0] > pd.Timestamp(val_end):
            return
        after = int(len(index) - index.searchsorted(pd.Timestamp(val_end), side="right"))
        end = _shown(pd.Timestamp(val_end))
        last = f"ends on {_shown(index[-1])}"
    elif training_data:
        after, end, last = len(index) - int(val_end), f"row {val_end}", f"has {len(index)} rows"
    else:
        return
    if after <= 0:
        raise DataError(f"{name}: the data {last}, before the end of the model's validation part ({end}); "
                        "evaluate scores only forecasts after it, which the model was neither fitted nor tuned "
                        f"on. Give data that runs past {end} (the training file with newer rows, or newer data).")
    raise DataError(f"{name}: the data has {after} row(s) after the end of the model's validation part ({end}); "
                    f"a backtest needs {horizon} (the horizon) after it. Give data with more recent rows.")


def _shown(stamp: pd.Timestamp) -> str:
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat(sep=" ")


def parse_thresholds(specs: list[str]) -> dict[str, float]:
    """`mape=0.05` or `mase_vs_naive=1.0` style limits for `--fail-above`, checked before any work is done."""
    limits = {}
    for spec in specs:
        metric, _, value = spec.partition("=")
        metric = metric.strip().lower()
        if metric not in METRICS and metric not in RATIOS:
            raise ConfigError(f"--fail-above {spec!r}: unknown metric {metric!r}; use one of "
                              f"{', '.join((*METRICS, *RATIOS))}.")
        try:
            limits[metric] = float(value)
        except ValueError as exc:
            raise ConfigError(f"--fail-above {spec!r}: {value!r} is not a number; write e.g. mape=0.05.") from exc
        if not math.isfinite(limits[metric]):  # nothing is above nan or inf: the check could never fail
            raise ConfigError(f"--fail-above {spec!r}: {value!r} is not a finite number; write e.g. mape=0.05.")
    return limits


def refuse_thresholds_for_classifier(task: str | None, limits: dict[str, float]) -> None:
    """--fail-above limits forecast errors; a classifier has none (checked before any work)."""
    if limits and task == "classify":
        raise ConfigError("--fail-above limits forecast errors; this model is a classifier, whose accuracy "
                          "is in the --json output. Leave --fail-above out.")


def check_thresholds(result: dict, limits: dict[str, float]) -> None:
    """Raise ThresholdBreached (exit 3) naming the first metric (or MASE ratio) worse than its limit."""
    refuse_thresholds_for_classifier(result.get("task"), limits)
    for metric, limit in limits.items():
        value = mase_ratio(result, metric) if metric in RATIOS else result["metrics"].get(metric)
        if value is None:  # an alert that silently passed would be a check that cannot fail
            raise ConfigError(f"--fail-above {metric}: {metric} is undefined on this data (mape needs a target "
                              "other than 0, mase a training part that varies); limit another metric.")
        if value > limit:
            raise ThresholdBreached(f"{metric} {value:.4f} is above the limit {limit} set with --fail-above.")


def mase_ratio(result: dict, name: str) -> float:
    """The model's MASE over a baseline's (the lower of several); ConfigError in one line where undefined."""
    from forecast_cli.report import BASELINE_NAMES, baseline_mase, best_baseline

    model, best = result["metrics"].get("mase"), best_baseline(result, RATIOS[name])
    base = baseline_mase(result, best) if best else None
    if model is None or not base:
        missing = " or ".join(BASELINE_NAMES[n] for n in RATIOS[name])
        why = ("the model's mase is undefined (the training part does not vary)" if model is None
               else f"{missing} has no mase above 0 here" + (" (the model has no season)"
                                                             if RATIOS[name] == ("seasonal_naive",) else ""))
        raise ConfigError(f"--fail-above {name}: the ratio is undefined on this data: {why}; limit another metric.")
    return model / base
