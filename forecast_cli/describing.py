"""The second half of `fit`: a trained model -> the test part's backtest (one series, or every series
and their aggregate) -> the typed manifest and the report (`FitOutcome`, which `save`s the model
directory). Imports no verb.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from forecast_cli.version import __version__
from forecast_cli.data.frame import Frame
from forecast_cli.data.windows import origins_between, targets_at
from forecast_cli import ensemble
from forecast_cli.forward import LINEAR_PREFIX, mean_forward, torch_forward
from forecast_cli.intervals import MIN_ORIGINS, fit_calibration
from forecast_cli.loaded import relative_data_path
from forecast_cli.many import score_series
from forecast_cli.per_series import split_weights
from forecast_cli.metrics import naive_scale
from forecast_cli.notes import without_name
from forecast_cli.predictors import Backtest, Predictor, make_predictor
from forecast_cli.report import markdown
from forecast_cli.store import artifact
from forecast_cli.store.manifest import (Calibration, Configs, DataRecord, Manifest, SeriesRecord, TrainingRecord)
from forecast_cli.store.series import SeriesStats

from forecast_cli.preparing import Prepared


@dataclass
class FitOutcome:
    """A trained model in memory: everything the model directory holds, and the predictor it scored with."""

    manifest: Manifest
    weights: dict  # the best epoch's state_dict, CPU tensors
    history: list[dict]  # one row per epoch: epoch, train_loss, val_loss, seconds
    report: dict | None  # the test part's backtest, None without a test part
    report_md: str
    predictor: Predictor  # the in-memory trained model behind the report
    test: Backtest | None  # the test part's backtest (report is its result); None for many series
    seconds: float
    series: SeriesStats | None = None  # many series (--id-col): each one's statistics, saved beside the weights
    series_forwards: list | None = None  # --per-series: each series' own forward function, in `series` order

    def save(self, out: Path) -> None:
        """Write the model directory `out` (staged and swapped in atomically, under its lock), recording
        the training file's path from `out` too when it lies below out's parent (loaded.relative_data_path);
        the manifest becomes the one written, with the weights' sha256."""
        data = replace(self.manifest.data, relative_path=relative_data_path(self.manifest.data.path, out))
        self.manifest = artifact.save(out, replace(self.manifest, data=data), self.weights, self.history,
                                      self.report or {}, self.report_md, self.series)


def describe(source, prepared: Prepared, model, trained, configs: Configs, started: float,
              linear=None, members: list = ()) -> FitOutcome:
    """The test-part backtest and the manifest, from the trained model (and its linear baseline, if any;
    with --ensemble, the other members: the forecasts are their mean)."""
    data_config = configs.data
    frame, splits = prepared.frame, prepared.splits
    baseline_models = {"linear": torch_forward(linear)} if linear is not None else {}
    if prepared.many is not None:
        return _describe_many(source, prepared, model, trained, configs, started, linear, baseline_models)
    forwards = [torch_forward(model), *(torch_forward(member) for member, _ in members)]
    predictor = make_predictor(mean_forward(forwards), prepared.scaler, data_config.window, data_config.horizon,
                               prepared.classification, baseline_models, configs.model.quantiles)
    if configs.model.quantiles:
        predictor.calibration = calibrate(predictor, prepared)
    target = frame.data.iloc[:, 0].to_numpy(dtype="float64")
    season = prepared.recipe.baseline_season
    mase_scale = naive_scale(target[: splits.train_end])
    test_origins = origins_between(splits.val_end, splits.rows, data_config.window, data_config.horizon)
    tested = predictor.backtest(frame, test_origins, season, mase_scale) if len(test_origins) else None
    report = tested.result if tested else None
    if members and tested:  # the members' spread on the same origins, beside the ensemble's own scores
        report["ensemble"] = ensemble.describe(
            predictor, frame, tested, forwards, mase_scale, [configs.train.seed + i for i in range(len(forwards))],
            [trained.best_epoch, *(result.best_epoch for _, result in members)])
    training = TrainingRecord(device=trained.device, best_epoch=trained.best_epoch, epochs_run=len(trained.history),
                              stopped_early=trained.stopped_early, seconds=round(time.perf_counter() - started, 3))
    manifest = Manifest(
        configs=configs, data=_data_record(source, prepared), frame=frame.spec, scaler=prepared.scaler,
        frequency=frame.freq, season=season, mase_scale=mase_scale, training=training,
        classification=prepared.classification, dtypes=frame.dtypes, choices=prepared.recipe.choices,
        metrics=report["metrics"] if report else None, baselines=report["baselines"] if report else None,
        notes=[without_name(note, prepared.table.name) for note in frame.notes], versions=_versions(),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        calibration=getattr(predictor, "calibration", None))
    name = prepared.table.name
    report_md = markdown(report, f"Test part of {name}", "the test part") if report else "No test part (--test-frac 0).\n"
    if report and "ensemble" in report:
        report_md += ensemble.spread_markdown(report["ensemble"])
    history = [vars(stats) for stats in trained.history]
    weights = dict(trained.state_dict)
    if linear is not None:  # saved beside the model's own tensors, under the prefix loaded.py splits off
        weights.update({f"{LINEAR_PREFIX}{name}": tensor.detach().cpu().clone()
                        for name, tensor in linear.state_dict().items()})
    weights.update(ensemble.member_weights(members))  # members 1 .. N-1, each under its own prefix
    return FitOutcome(manifest, weights, history, report, report_md, predictor, tested,
                      time.perf_counter() - started)


def calibrate(predictor, prepared: Prepared, widen_only: bool = True) -> Calibration:
    """The intervals' conformal widening (intervals.py), from the validation origins, or from the training
    and validation origins together when validation holds fewer than MIN_ORIGINS of them."""
    data = prepared.data
    origins, part = data.val_origins, "validation"
    if len(origins) < MIN_ORIGINS:
        origins = origins_between(0, prepared.splits.val_end, data.window, data.horizon)  # consecutive
        part = "training+validation"
    target = prepared.frame.data.iloc[:, 0].to_numpy(dtype="float64")
    levels = predictor.levels(prepared.frame, origins)  # uncalibrated: the predictor has none yet
    return fit_calibration(levels, targets_at(target, origins, data.horizon), predictor.quantiles, part, widen_only)


def _describe_many(source, prepared: Prepared, model, trained, configs: Configs, started: float, linear,
                   baseline_models: dict) -> FitOutcome:
    """A many-series fit's test report (every series' test part, and their aggregate) and manifest."""
    config, many = configs.data, prepared.many
    forward = torch_forward(model) if model is not None else _series_forwards(prepared, trained)
    season = prepared.recipe.baseline_season
    test_origins = [origins_between(s.val_end, s.rows, config.window, config.horizon) for s in many.splits]
    report = None
    if any(len(o) for o in test_origins):
        report = score_series(many.panel, many.stats, forward, config.window, config.horizon, test_origins, season,
                              baseline_models)
    shared = forward[0] if isinstance(forward, list) else forward  # --per-series: a list, one per series
    predictor = make_predictor(shared, prepared.scaler, config.window, config.horizon, None, baseline_models)
    training = TrainingRecord(device=trained.device, best_epoch=trained.best_epoch, epochs_run=len(trained.history),
                              stopped_early=trained.stopped_early, seconds=round(time.perf_counter() - started, 3))
    manifest = Manifest(
        configs=configs, data=_many_data_record(source, prepared), frame=many.panel.spec, scaler=prepared.scaler,
        frequency=many.panel.freq, season=season, mase_scale=float(np.median(many.stats.mase_scale)),
        training=training, dtypes={}, metrics=report["metrics"] if report else None,
        baselines=report["baselines"] if report else None,
        notes=[without_name(note, prepared.table.name) for note in many.panel.notes], versions=_versions(),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), choices=prepared.recipe.choices,
        series=SeriesRecord(count=len(many.stats.ids), skipped=many.skipped))
    name = prepared.table.name
    report_md = (markdown(report, f"Test part of {name} ({len(many.stats.ids):,} series, means)", "the test part")
                 if report else "No test part (--test-frac 0).\n")
    weights = dict(trained.state_dict)
    if linear is not None:
        weights.update({f"{LINEAR_PREFIX}{key}": tensor.detach().cpu().clone()
                        for key, tensor in linear.state_dict().items()})
    return FitOutcome(manifest, weights, [vars(stats) for stats in trained.history], report, report_md, predictor,
                      None, time.perf_counter() - started, many.stats,
                      forward if isinstance(forward, list) else None)


def _series_forwards(prepared: Prepared, trained) -> list:
    """--per-series: each series' own forward function, in the series file's order."""
    from forecast_cli.forward import torch_module

    models = split_weights(trained.state_dict, len(prepared.many.stats.ids))
    return [torch_forward(torch_module(prepared.spec, weights, "the trained weights")) for weights in models]


def _many_data_record(source, prepared: Prepared) -> DataRecord:
    """The many-series data: where from, row counts over all series, the first and last timestamps of any,
    and as `val_end` the latest series' (each series' own is in the series file)."""
    import pandas as pd

    many, splits = prepared.many, prepared.splits
    path = str(Path(source).resolve()) if isinstance(source, (str, Path)) and str(source) != "-" else None
    timed = bool(many.panel.spec.time_cols)
    first = min(frame.data.index[0] for frame in many.panel.frames)
    last = max(frame.data.index[-1] for frame in many.panel.frames)
    latest = int(many.stats.val_end.max())
    return DataRecord(
        path=path, sha256=prepared.table.sha256, val_end=pd.Timestamp(latest).isoformat() if timed else latest,
        rows=len(prepared.table.raw), rows_used=splits.rows,
        first_timestamp=first.isoformat() if timed else None, last_timestamp=last.isoformat() if timed else None,
        splits={"train": splits.train_end, "val": splits.val_end - splits.train_end, "test": splits.rows - splits.val_end})


def _stamp(frame: Frame, row: int):
    """The timestamp (ISO text) of a row, or the row number when the data has no time column."""
    index = frame.data.index
    if row < 0:
        return None
    value = index[row]
    return value.isoformat() if hasattr(value, "isoformat") else int(row + 1)


def _data_record(source, prepared: Prepared) -> DataRecord:
    """Where the data came from (None for stdin or a DataFrame) and how it was split."""
    frame, splits = prepared.frame, prepared.splits
    path = str(Path(source).resolve()) if isinstance(source, (str, Path)) and str(source) != "-" else None
    return DataRecord(
        path=path, sha256=prepared.table.sha256, val_end=_stamp(frame, splits.val_end - 1),
        rows=prepared.table.rows, rows_used=splits.rows, dropped_leading_rows=frame.dropped_leading,
        filled_values=frame.filled, first_timestamp=_stamp(frame, 0), last_timestamp=_stamp(frame, splits.rows - 1),
        train_end=_stamp(frame, splits.train_end - 1),
        splits={"train": splits.train_end, "val": splits.val_end - splits.train_end, "test": splits.rows - splits.val_end})


def _versions() -> dict[str, str]:
    import pandas as pd
    import torch

    return {"forecast": __version__, "torch": torch.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}
