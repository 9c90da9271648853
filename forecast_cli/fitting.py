"""The `fit` recipe: CSV or DataFrame -> frame -> scaled arrays -> windows -> trained model -> test
report -> manifest (and, given `out`, the model directory).

One straight line through the hops; each hop's logic lives in its own module. Around training, when
writing to `out`: its lock, leftovers of killed fits removed, and an interrupted run's checkpoint.
"""

from __future__ import annotations

import contextlib
import platform
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from forecast_cli.version import __version__
from forecast_cli.config import check_task_fits_model, check_training_fits
from forecast_cli.data.calendar import with_calendar
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import build_task_frame, classification_record
from forecast_cli.data.panel import build_panel
from forecast_cli.data.recipe import Recipe, resolve
from forecast_cli.data.windows import Scaler, Splits, column_statistics, origins_between, split_rows, targets_at
from forecast_cli.errors import ConfigError, DataError, Interrupted
from forecast_cli import ensemble
from forecast_cli.forward import LINEAR_PREFIX, check_weights, mean_forward, scaled_values, torch_forward
from forecast_cli.intervals import MIN_ORIGINS, fit_calibration
from forecast_cli.loaded import header_looks_like_data, relative_data_path, shown_names
from forecast_cli.many import ManyPrepared, prepare_many, score_series
from forecast_cli.per_series import split_weights, train_per_series
from forecast_cli.metrics import naive_scale
from forecast_cli.nn.spec import ModelSpec, check_size
from forecast_cli.notes import note_read, note_series_read, without_name
from forecast_cli.predictors import Backtest, Predictor, make_predictor
from forecast_cli.report import markdown
from forecast_cli.store import artifact, checkpoint, lock
from forecast_cli.store.atomic import real_path, remove_stale
from forecast_cli.store.manifest import (Calibration, Classification, Configs, DataRecord, Manifest, SeriesRecord,
                                        TrainingRecord, derive_model_spec)
from forecast_cli.store.series import SeriesStats


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


@dataclass
class Prepared:
    """Everything decided from the data before training; every bad-input error is raised making it."""

    table: Table
    frame: Frame
    splits: Splits
    scaler: Scaler
    data: object  # nn.training_data.TrainingData
    spec: ModelSpec
    classification: Classification | None  # a classifier's classes (labels.py); None when forecasting
    configs: Configs  # the options with every auto one resolved (recipe.py): what the manifest stores
    recipe: Recipe
    many: ManyPrepared | None = None  # many series (--id-col): the kept series, splits and statistics


def fit(source, configs: Configs, out: Path | None, warn: Callable[[str], None],
        on_epoch_end: Callable | None = None, should_stop: Callable[[], bool] | None = None,
        resume: bool = False, warm_start: Path | None = None, test_from=None) -> FitOutcome:
    """Train on `source` (a path, `-`, or a pandas DataFrame); warnings go through `warn`.

    Bad options and data fail before anything is written. With `out`, training holds its lock and the
    result is written there; when `should_stop` says so a checkpoint is saved beside it and
    Interrupted raised, leaving `out` as it was; `resume` continues from that checkpoint. A
    KeyboardInterrupt at any other stage (Ctrl-C, or SIGTERM through cli/signals) ends in
    Interrupted too, naming the stage. A `should_stop` with an `at_safe_points()` context
    (cli/signals.StopRequest) is told where a stop request can wait for the next poll: training
    and the save; elsewhere its signals interrupt at once. `warm_start` names a saved model whose
    weights (and scaler) training starts from (warmstart.py); the report then holds its score before.
    `test_from` (a timestamp; many series only) makes each series' test part its rows from that time
    on: a many-series backtest fold's block (backtest_many.py).
    """
    from forecast_cli.nn import distributed
    from forecast_cli.nn.train import resolve_device

    started = time.perf_counter()
    out = real_path(out) if out is not None else None  # a link: the directory it points to, lock and all
    for config in (configs.data, configs.model, configs.train):
        config.validate()
    check_task_fits_model(configs.data, configs.model)
    check_training_fits(configs.data, configs.model, configs.train)
    resolve_device(configs.train.device)
    if distributed.launched():
        _refuse_distributed_forking(configs)
        distributed.start(configs.train.device)
        if not distributed.is_primary():  # rank 0 alone writes (its lock and atomic publish as always)
            out = None
    if out is not None:
        artifact.check_writable_target(out)
    unchanged = f"{out} is unchanged" if out is not None else "nothing was saved"
    stage = "while reading and preparing the data"
    try:
        prepared = prepare(source, configs, warn, test_from)
        configs = prepared.configs
        start = None
        if warm_start is not None and prepared.many is not None:
            raise ConfigError("--warm-start is not supported with --id-col yet (each series has its own scaler); "
                              "fit without --warm-start.")
        if warm_start is not None:
            start, prepared = _warm_start(warm_start, prepared, configs)
        stage = "before training started"
        with lock.exclusive(out) if out is not None else contextlib.nullcontext():
            if out is not None:
                _clean_leftovers(out, warn)
            if configs.train.per_series:  # one model per series, through joblib (per_series.py)
                model, trained = None, train_per_series(prepared, configs, configs.train.n_jobs,
                                                        configs.train.backend)
            else:
                model, trained = _train(prepared, configs, out, warn, on_epoch_end, should_stop, resume,
                                        start.weights if start is not None else None)
            stage = "in training the ensemble's other members"
            members = ensemble.train_members(prepared, configs, on_epoch_end, should_stop, warn)
            stage = "after training, before the model was saved"
            linear = _train_linear_baseline(prepared, configs)
            outcome = _describe(source, prepared, model, trained, configs, started, linear, members)
            if start is not None:
                _describe_warm_start(outcome, start, prepared)
            if out is not None:
                with _safe_points(should_stop):  # a save is short, and half of one is worse than waiting
                    outcome.save(out)
                    checkpoint.discard(out)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: stopped {stage}; {unchanged}.") from None
    return outcome


def _refuse_distributed_forking(configs: Configs) -> None:
    if configs.train.training == "forking":
        raise ConfigError("--training forking is not supported under torchrun yet; use --training windows "
                          "(the default) for distributed training.")


def _safe_points(should_stop: Callable[[], bool] | None):
    """The block where a stop request may wait for the next poll (cli/signals.StopRequest.at_safe_points);
    a plain callable (the Python API's) has none."""
    return getattr(should_stop, "at_safe_points", contextlib.nullcontext)()


def prepare(source, configs: Configs, warn: Callable[[str], None], test_from=None) -> Prepared:
    """CSV -> frame -> splits -> train-only scaler -> scaled windows and the model's sizes."""
    from forecast_cli.nn.training_data import TrainingData

    data_config = configs.data
    started = time.perf_counter()
    table = read_source(source)
    _require_header(table, data_config.target_from or data_config.target)
    if data_config.id_col:
        return _prepare_many(table, configs, warn, started, test_from)
    frame = build_task_frame(table, data_config)
    frame = with_calendar(frame, data_config.calendar, frame.freq, data_config.horizon)  # --calendar auto's inputs
    note_read(table.name, *table.raw.shape, time.perf_counter() - started, warn)
    table.release_rows()  # from here on only the frame is needed
    for note in frame.notes:
        warn(note)
    values = frame.data.to_numpy(dtype="float64")
    recipe = resolve(data_config, values[:, 0], frame.freq, _seasonal_refused(configs))
    for note in recipe.notes:
        warn(note)
    configs = replace(configs, data=recipe.data)
    data_config = configs.data
    data_config.validate()
    check_task_fits_model(data_config, configs.model)
    check_training_fits(data_config, configs.model, configs.train)
    splits = split_rows(len(values), data_config.val_frac, data_config.test_frac,
                        data_config.window, data_config.horizon, table.name)
    scaler = fit_scaler(values, splits, frame, table.name, warn)
    if configs.train.training == "forking" and data_config.norm == "window":
        scaler = scaler.with_differences(values[: splits.train_end], len(frame.spec.numeric))
    scaled = scaled_values(frame, scaler, table.name)
    data = TrainingData(scaled, training_target(frame, scaled),
                        origins_between(0, splits.train_end, data_config.window, data_config.horizon),
                        origins_between(splits.train_end, splits.val_end, data_config.window, data_config.horizon),
                        data_config.window, data_config.horizon, classify=frame.labels is not None,
                        quantiles=configs.model.quantiles)
    classification = (Classification(**classification_record(frame.labels, data.train_origins, data.horizon))
                      if frame.labels else None)
    spec = derive_model_spec(configs, frame.spec, len(frame.labels.classes) if frame.labels else 0, scaler, frame.freq)
    check_size(spec)
    return Prepared(table, frame, splits, scaler, data, spec, classification, configs, recipe)


def _seasonal_refused(configs: Configs) -> str | None:
    """What rules the seasonal normalization out for --norm auto, in words; None when nothing does."""
    if configs.data.task != "forecast":
        return f"--task {configs.data.task} has no forecast to start from seasonal naive"
    if configs.model.decoder != "direct":
        return f"--decoder {configs.model.decoder} is not supported with --norm seasonal"
    if configs.train.training == "forking":
        return "--training forking is not supported with --norm seasonal"
    return None


def _prepare_many(table: Table, configs: Configs, warn: Callable[[str], None], started: float,
                  test_from=None) -> Prepared:
    """Long format: every series split and scaled on its own, one set of training windows across them all."""
    from forecast_cli.nn.train import TrainingData

    config = configs.data
    panel = build_panel(table.raw, table.name, config.target, config.features, config.time_col, config.id_col,
                        config.horizon, config.calendar)
    note_series_read(table.name, len(table.raw), len(panel.ids), time.perf_counter() - started, warn)
    for note in panel.notes:
        warn(note)
    longest = max(panel.frames, key=lambda frame: len(frame.data))
    # One recipe for every series (the longest one's: its season, norm and window); the model is shared.
    recipe = resolve(config, longest.data.to_numpy(dtype="float64")[:, 0], panel.freq, _seasonal_refused(configs))
    for note in recipe.notes:
        warn(f"{note} (decided on the longest series, {panel.ids[panel.frames.index(longest)]!r})")
    configs = replace(configs, data=recipe.data)
    config = configs.data
    config.validate()
    check_task_fits_model(config, configs.model)
    check_training_fits(config, configs.model, configs.train)
    many = prepare_many(panel, config.window, config.horizon, config.val_frac, config.test_frac, warn, table.name,
                        test_from, coded=configs.model.id_embedding > 0)
    columns = panel.frames[0].data.shape[1]  # the inputs, then the calendar's
    scaler = Scaler(np.zeros(columns), np.ones(columns))  # identity: each series' statistics are in many.stats
    data = TrainingData(many.values, many.values[:, 0].copy(), many.train_origins, many.val_origins,
                        config.window, config.horizon)
    spec = derive_model_spec(configs, panel.spec, 0, scaler, panel.freq, len(many.stats.ids))
    check_size(spec)
    longest = max(many.panel.frames, key=lambda frame: len(frame.data))
    splits = Splits(int(sum(s.train_end for s in many.splits)), int(sum(s.val_end for s in many.splits)),
                    int(sum(s.rows for s in many.splits)))
    return Prepared(table, longest, splits, scaler, data, spec, None, configs, recipe, many)


def _require_header(table: Table, target: str) -> None:
    """A file whose header line is missing: the target is not a column and the names read as values."""
    if target not in table.raw.columns and header_looks_like_data(table.raw.columns):
        raise DataError(f"{table.name}: the first line looks like data, not a header "
                        f"({shown_names(table.raw.columns)}); fit needs a header line naming the columns, "
                        f"{target!r} among them. Add it.")


def _train(prepared: Prepared, configs: Configs, out: Path | None, warn: Callable[[str], None], on_epoch_end: Callable | None,
           should_stop: Callable[[], bool] | None, resume: bool, start_weights: dict | None = None):
    """Build the model (or take it from the checkpoint, or start from `start_weights`) and train; on a
    stop request, checkpoint and raise."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, start_levels, train_model

    stamp = checkpoint.fingerprint(prepared.table.sha256, configs.to_json(), prepared.scaler.to_dict())
    progress = _resume_from(out, stamp, prepared.spec, resume, warn) if out is not None else None
    unchanged = f"{out} is unchanged" if out is not None else "nothing was saved"
    if should_stop and should_stop():
        raise Interrupted(f"interrupted: stopped before training started; {unchanged}.")
    seed_everything(configs.train.seed)
    try:
        model = Forecaster(prepared.spec)
    except RuntimeError as exc:  # torch's allocator failing for --hidden / --layers too large
        raise ConfigError(f"--hidden {configs.model.hidden_size} with --layers {configs.model.num_layers} needs "
                          "more memory than this machine has; choose smaller sizes.") from exc
    if start_weights is not None:  # --warm-start: already checked against prepared.spec
        model.load_state_dict(start_weights, strict=True)
    elif progress is None:
        start_levels(model, prepared.data)  # quantile levels start at the training part's residual quantiles
    try:
        with _safe_points(should_stop):  # polled after every batch: a first signal stops at the next one
            trained = train_model(model, prepared.data, configs.train, on_epoch_end, should_stop, progress)
            if trained.interrupted:
                _stop_with_checkpoint(trained.interrupted, out, stamp)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: stopped in training by a second signal, without a checkpoint; "
                          f"{unchanged}.") from None
    return model, trained


def _warm_start(directory: Path, prepared: Prepared, configs: Configs):
    """The saved model to start from, checked against this fit, and the data scaled by its scaler (kept,
    not refitted: warmstart.py says why)."""
    from forecast_cli import warmstart

    start = warmstart.open_start(real_path(Path(directory)))
    warmstart.refuse_incompatible(start, configs, prepared.frame.spec, prepared.classification)
    prepared = with_scaler(prepared, start.manifest.scaler, configs)
    warmstart.refuse_other_network(start, prepared.spec)
    return start, prepared


def with_scaler(prepared: Prepared, scaler: Scaler, configs: Configs) -> Prepared:
    """The same rows and splits scaled by another scaler (the training data's other fields kept)."""
    scaled = scaled_values(prepared.frame, scaler, prepared.table.name)
    data = replace(prepared.data, values=scaled, target=training_target(prepared.frame, scaled))
    classes = len(prepared.frame.labels.classes) if prepared.frame.labels else 0
    spec = derive_model_spec(configs, prepared.frame.spec, classes, scaler, prepared.frame.freq)
    return replace(prepared, scaler=scaler, data=data, spec=spec)


def _describe_warm_start(outcome: FitOutcome, start, prepared: Prepared) -> None:
    """Add the old model's test score (before) beside the new one (after) to the report and report.md."""
    from forecast_cli import warmstart

    if outcome.test is None:  # --test-frac 0: no test part to compare on
        return
    manifest = outcome.manifest
    record = warmstart.before_after(start, prepared.frame, outcome.test, manifest.season, manifest.mase_scale)
    outcome.report["warm_start"] = record
    outcome.report_md += warmstart.markdown(record)


def _train_linear_baseline(prepared: Prepared, configs: Configs):
    """The linear baseline (--cell linear on the same windows, loss, optimizer and early stopping), or
    None for a classifier or a model that is linear itself. Cheap beside the recurrent model; retrained
    after a resume, so it is in no checkpoint."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, train_model

    if prepared.spec.task != "forecast" or prepared.spec.cell == "linear" or configs.train.per_series:
        return None
    seed_everything(configs.train.seed)
    model = Forecaster(prepared.spec.linear())
    point = replace(prepared.data, quantiles=())  # point forecasts and MSE, whatever --quantiles asks
    train_model(model, point, replace(configs.train, training="windows"), None, None, None)
    return model  # holds its best epoch's weights


def _stop_with_checkpoint(stopped, out: Path | None, stamp: dict) -> None:
    """Save the interrupted training's progress beside `out`, then raise Interrupted saying where it is."""
    where = f"in epoch {stopped.epoch} after {stopped.batches_done} batch(es)"
    if out is None:
        raise Interrupted(f"interrupted: stopped {where}; nothing was saved.")
    from safetensors import SafetensorError

    try:
        saved = checkpoint.save(out, stopped, stamp)
    except (OSError, SafetensorError) as exc:
        raise Interrupted(f"interrupted: stopped {where}, but the checkpoint could not be saved "
                          f"({artifact.write_failure(exc)}); {out} is unchanged.") from exc
    raise Interrupted(f"interrupted: stopped {where}; checkpoint saved to {saved}; {out} is unchanged. "
                      "Run the same command with --resume to continue.")


def _resume_from(out: Path, stamp: dict, spec, resume: bool, warn: Callable[[str], None]):
    """The checkpointed progress to continue, or None to start from the beginning."""
    where = checkpoint.location(out)
    if resume and checkpoint.exists(out):
        progress = checkpoint.load(out, stamp, spec)
        check_weights(spec, progress.model_state, str(where))
        warn(f"resuming from {where}: epoch {progress.epoch}, after {progress.batches_done} batch(es).")
        return progress
    if resume:
        warn(f"--resume: no checkpoint at {where}; training from the beginning.")
    elif checkpoint.exists(out):
        warn(f"an interrupted fit left a checkpoint at {where}; training from the beginning "
             "(add --resume to continue it instead).")
    return None


def _clean_leftovers(out: Path, warn: Callable[[str], None]) -> None:
    """Remove staging folders of fits that were killed (their process is gone) before starting."""
    removed = remove_stale(out) + remove_stale(checkpoint.location(out))
    if removed:
        warn(f"removed {len(removed)} temporary folder(s) left beside {out} by a fit that was killed.")


def _describe(source, prepared: Prepared, model, trained, configs: Configs, started: float,
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
    target = frame.data.to_numpy(dtype="float64")[:, 0]
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
    target = prepared.frame.data.to_numpy(dtype="float64")[:, 0]
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


def fit_scaler(values: np.ndarray, splits: Splits, frame: Frame, name: str, warn: Callable[[str], None]) -> Scaler:
    """Z-score statistics from the training rows only; constant inputs get a warning."""
    train = values[: splits.train_end]
    columns = frame.data.columns
    scaler = Scaler.fit(train, _require_scalable(train, columns, name))
    constant = [columns[index] for index in scaler.constant_columns(train)]
    if columns[0] in constant:
        raise DataError(f"{name}: target column {columns[0]!r} is constant in the training part; "
                        "there is nothing to learn. Choose another --target.")
    if constant:  # one line, however many (one-hot columns of categories seen only later are common)
        shown = ", ".join(map(repr, constant[:5])) + (f" and {len(constant) - 5} more" if len(constant) > 5 else "")
        warn(f"{'column' if len(constant) == 1 else 'columns'} {shown} "
             f"{'is' if len(constant) == 1 else 'are'} constant in the training part; passed through unscaled.")
    return scaler


def training_target(frame: Frame, scaled: np.ndarray) -> np.ndarray:
    """(T,) float32 per row: the target's z-scores, or a classifier's class codes (-1 where undefined)."""
    if frame.labels is not None:
        return frame.labels.codes.astype(np.float32)
    return scaled[:, 0].copy()


def _require_scalable(train: np.ndarray, columns, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Name the column too large to normalize (values beyond float64's max / 16: see column_statistics);
    return the statistics, which the scaler is made of."""
    mean, spread = column_statistics(train)
    for index in np.flatnonzero(~(np.isfinite(spread) & np.isfinite(mean))):
        largest = float(np.nanmax(np.abs(train[:, index])))
        raise DataError(f"{name}: column {columns[index]!r} holds values too large to normalize (up to "
                        f"{largest:.3g}); rescale it (for example to millions) and retry.")
    return mean, spread


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
