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
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import build_task_frame, classification_record
from forecast_cli.data.timeindex import season_of
from forecast_cli.data.windows import Scaler, Splits, column_statistics, origins_between, split_rows
from forecast_cli.errors import ConfigError, DataError, Interrupted
from forecast_cli.forward import LINEAR_PREFIX, check_weights, scaled_values, torch_forward
from forecast_cli.loaded import header_looks_like_data, relative_data_path, shown_names
from forecast_cli.metrics import naive_scale
from forecast_cli.nn.spec import ModelSpec, check_size
from forecast_cli.notes import note_read, without_name
from forecast_cli.predictors import Backtest, Predictor, make_predictor
from forecast_cli.report import markdown
from forecast_cli.store import artifact, checkpoint, lock
from forecast_cli.store.atomic import real_path, remove_stale
from forecast_cli.store.manifest import Classification, Configs, DataRecord, Manifest, TrainingRecord, derive_model_spec


@dataclass
class FitOutcome:
    """A trained model in memory: everything the model directory holds, and the predictor it scored with."""

    manifest: Manifest
    weights: dict  # the best epoch's state_dict, CPU tensors
    history: list[dict]  # one row per epoch: epoch, train_loss, val_loss, seconds
    report: dict | None  # the test part's backtest, None without a test part
    report_md: str
    predictor: Predictor  # the in-memory trained model behind the report
    test: Backtest | None  # the test part's backtest (report is its result)
    seconds: float

    def save(self, out: Path) -> None:
        """Write the model directory `out` (staged and swapped in atomically, under its lock), recording
        the training file's path from `out` too when it lies below out's parent (loaded.relative_data_path);
        the manifest becomes the one written, with the weights' sha256."""
        data = replace(self.manifest.data, relative_path=relative_data_path(self.manifest.data.path, out))
        self.manifest = artifact.save(out, replace(self.manifest, data=data), self.weights, self.history,
                                      self.report or {}, self.report_md)


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


def fit(source, configs: Configs, out: Path | None, warn: Callable[[str], None],
        on_epoch_end: Callable | None = None, should_stop: Callable[[], bool] | None = None,
        resume: bool = False) -> FitOutcome:
    """Train on `source` (a path, `-`, or a pandas DataFrame); warnings go through `warn`.

    Bad options and data fail before anything is written. With `out`, training holds its lock and the
    result is written there; when `should_stop` says so a checkpoint is saved beside it and
    Interrupted raised, leaving `out` as it was; `resume` continues from that checkpoint. A
    KeyboardInterrupt at any other stage (Ctrl-C, or SIGTERM through cli/signals) ends in
    Interrupted too, naming the stage. A `should_stop` with an `at_safe_points()` context
    (cli/signals.StopRequest) is told where a stop request can wait for the next poll: training
    and the save; elsewhere its signals interrupt at once.
    """
    from forecast_cli.nn.train import resolve_device

    started = time.perf_counter()
    out = real_path(out) if out is not None else None  # a link: the directory it points to, lock and all
    for config in (configs.data, configs.model, configs.train):
        config.validate()
    check_task_fits_model(configs.data, configs.model)
    check_training_fits(configs.data, configs.model, configs.train)
    resolve_device(configs.train.device)
    if out is not None:
        artifact.check_writable_target(out)
    unchanged = f"{out} is unchanged" if out is not None else "nothing was saved"
    stage = "while reading and preparing the data"
    try:
        prepared = prepare(source, configs, warn)
        stage = "before training started"
        with lock.exclusive(out) if out is not None else contextlib.nullcontext():
            if out is not None:
                _clean_leftovers(out, warn)
            model, trained = _train(prepared, configs, out, warn, on_epoch_end, should_stop, resume)
            stage = "after training, before the model was saved"
            linear = _train_linear_baseline(prepared, configs)
            outcome = _describe(source, prepared, model, trained, configs, started, linear)
            if out is not None:
                with _safe_points(should_stop):  # a save is short, and half of one is worse than waiting
                    outcome.save(out)
                    checkpoint.discard(out)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: stopped {stage}; {unchanged}.") from None
    return outcome


def _safe_points(should_stop: Callable[[], bool] | None):
    """The block where a stop request may wait for the next poll (cli/signals.StopRequest.at_safe_points);
    a plain callable (the Python API's) has none."""
    return getattr(should_stop, "at_safe_points", contextlib.nullcontext)()


def prepare(source, configs: Configs, warn: Callable[[str], None]) -> Prepared:
    """CSV -> frame -> splits -> train-only scaler -> scaled windows and the model's sizes."""
    from forecast_cli.nn.training_data import TrainingData

    data_config = configs.data
    started = time.perf_counter()
    table = read_source(source)
    _require_header(table, data_config.target_from or data_config.target)
    frame = build_task_frame(table, data_config)
    note_read(table.name, *table.raw.shape, time.perf_counter() - started, warn)
    table.release_rows()  # from here on only the frame is needed
    for note in frame.notes:
        warn(note)
    values = frame.data.to_numpy(dtype="float64")
    splits = split_rows(len(values), data_config.val_frac, data_config.test_frac,
                        data_config.window, data_config.horizon, table.name)
    scaler = fit_scaler(values, splits, frame, table.name, warn)
    if configs.train.training == "forking" and data_config.norm == "window":
        scaler = scaler.with_differences(values[: splits.train_end], len(frame.spec.numeric))
    scaled = scaled_values(frame, scaler, table.name)
    data = TrainingData(scaled, training_target(frame, scaled),
                        origins_between(0, splits.train_end, data_config.window, data_config.horizon),
                        origins_between(splits.train_end, splits.val_end, data_config.window, data_config.horizon),
                        data_config.window, data_config.horizon, classify=frame.labels is not None)
    classification = (Classification(**classification_record(frame.labels, data.train_origins, data.horizon))
                      if frame.labels else None)
    spec = derive_model_spec(configs, frame.spec, len(frame.labels.classes) if frame.labels else 0, scaler)
    check_size(spec)
    return Prepared(table, frame, splits, scaler, data, spec, classification)


def _require_header(table: Table, target: str) -> None:
    """A file whose header line is missing: the target is not a column and the names read as values."""
    if target not in table.raw.columns and header_looks_like_data(table.raw.columns):
        raise DataError(f"{table.name}: the first line looks like data, not a header "
                        f"({shown_names(table.raw.columns)}); fit needs a header line naming the columns, "
                        f"{target!r} among them. Add it.")


def _train(prepared: Prepared, configs: Configs, out: Path | None, warn: Callable[[str], None], on_epoch_end: Callable | None,
           should_stop: Callable[[], bool] | None, resume: bool):
    """Build the model (or take it from the checkpoint) and train; on a stop request, checkpoint and raise."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, train_model

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
    try:
        with _safe_points(should_stop):  # polled after every batch: a first signal stops at the next one
            trained = train_model(model, prepared.data, configs.train, on_epoch_end, should_stop, progress)
            if trained.interrupted:
                _stop_with_checkpoint(trained.interrupted, out, stamp)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: stopped in training by a second signal, without a checkpoint; "
                          f"{unchanged}.") from None
    return model, trained


def _train_linear_baseline(prepared: Prepared, configs: Configs):
    """The linear baseline (--cell linear on the same windows, loss, optimizer and early stopping), or
    None for a classifier or a model that is linear itself. Cheap beside the recurrent model; retrained
    after a resume, so it is in no checkpoint."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, train_model

    if prepared.spec.task != "forecast" or prepared.spec.cell == "linear":
        return None
    seed_everything(configs.train.seed)
    model = Forecaster(prepared.spec.linear())
    train_model(model, prepared.data, replace(configs.train, training="windows"), None, None, None)
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
              linear=None) -> FitOutcome:
    """The test-part backtest and the manifest, from the trained model (and its linear baseline, if any)."""
    data_config = configs.data
    frame, splits = prepared.frame, prepared.splits
    baseline_models = {"linear": torch_forward(linear)} if linear is not None else {}
    predictor = make_predictor(torch_forward(model), prepared.scaler, data_config.window, data_config.horizon,
                               prepared.classification, baseline_models)
    target = frame.data.to_numpy(dtype="float64")[:, 0]
    season = data_config.season or season_of(frame.freq)
    mase_scale = naive_scale(target[: splits.train_end])
    test_origins = origins_between(splits.val_end, splits.rows, data_config.window, data_config.horizon)
    tested = predictor.backtest(frame, test_origins, season, mase_scale) if len(test_origins) else None
    report = tested.result if tested else None
    training = TrainingRecord(device=trained.device, best_epoch=trained.best_epoch, epochs_run=len(trained.history),
                              stopped_early=trained.stopped_early, seconds=round(time.perf_counter() - started, 3))
    manifest = Manifest(
        configs=configs, data=_data_record(source, prepared), frame=frame.spec, scaler=prepared.scaler,
        frequency=frame.freq, season=season, mase_scale=mase_scale, training=training,
        classification=prepared.classification, dtypes=frame.dtypes,
        metrics=report["metrics"] if report else None, baselines=report["baselines"] if report else None,
        notes=[without_name(note, prepared.table.name) for note in frame.notes], versions=_versions(),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    name = prepared.table.name
    report_md = markdown(report, f"Test part of {name}", "the test part") if report else "No test part (--test-frac 0).\n"
    history = [vars(stats) for stats in trained.history]
    weights = dict(trained.state_dict)
    if linear is not None:  # saved beside the model's own tensors, under the prefix loaded.py splits off
        weights.update({f"{LINEAR_PREFIX}{name}": tensor.detach().cpu().clone()
                        for name, tensor in linear.state_dict().items()})
    return FitOutcome(manifest, weights, history, report, report_md, predictor, tested,
                      time.perf_counter() - started)


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
