"""The `fit` recipe: CSV -> frame -> scaled arrays -> windows -> trained model -> test report -> artifact.

One straight line through the hops; each hop's logic lives in its own module. Around training: the
`--out` lock, leftovers of killed fits removed, and an interrupted run's checkpoint (checkpoint.py).
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from forecast_cli import __version__
from forecast_cli.store import artifact
from forecast_cli.store import checkpoint
from forecast_cli.store import lock
from forecast_cli.store.atomic import remove_stale
from forecast_cli.config import DataConfig, ModelConfig, TrainConfig, check_task_fits_model, to_dict
from forecast_cli.errors import ConfigError, DataError, Interrupted
from forecast_cli.evaluate import backtest
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_table
from forecast_cli.data.labels import build_task_frame, classification_record
from forecast_cli.metrics import naive_scale
from forecast_cli.predict import check_weights, expected_shapes, make_predictor, scaled_values, torch_forward
from forecast_cli.report import markdown
from forecast_cli.data.timeindex import season_of
from forecast_cli.data.windows import Scaler, Splits, column_statistics, origins_between, split_rows


@dataclass
class FitOutcome:
    manifest: dict
    report: dict | None  # the test part's backtest, None without a test part
    seconds: float


@dataclass
class Prepared:
    """Everything decided from the data before training; every bad-input error is raised making it."""

    table: Table
    frame: Frame
    splits: Splits
    scaler: Scaler
    data: object  # train.TrainingData
    spec: object  # model.ModelSpec
    classification: dict | None  # classes and baselines of a classifier (labels.py); None when forecasting


def fit(source: str, data_config: DataConfig, model_config: ModelConfig, train_config: TrainConfig,
        out: Path, warn: Callable[[str], None], on_epoch_end: Callable | None = None,
        should_stop: Callable[[], bool] | None = None, resume: bool = False) -> FitOutcome:
    """Train on `source` and write the model directory `out`; warnings go through `warn`.

    Bad options and data fail before anything is written. Training holds `out`'s lock; when
    `should_stop` says so it saves a checkpoint and raises Interrupted, leaving `out` as it was;
    `resume` continues from that checkpoint.
    """
    from forecast_cli.nn.train import resolve_device

    started = time.perf_counter()
    configs = (data_config, model_config, train_config)
    for config in configs:
        config.validate()
    check_task_fits_model(data_config, model_config)
    resolve_device(train_config.device)
    artifact.check_writable_target(out)
    prepared = prepare(source, data_config, model_config, warn)
    with lock.exclusive(out):
        _clean_leftovers(out, warn)
        model, trained = _train(prepared, configs, out, warn, on_epoch_end, should_stop, resume)
        manifest, report, report_md = _describe(source, prepared, model, trained, configs)
        manifest["training"]["seconds"] = round(time.perf_counter() - started, 3)
        history = [vars(stats) for stats in trained.history]
        artifact.save(out, manifest, trained.state_dict, history, report or {}, report_md)
        checkpoint.discard(out)
    return FitOutcome(manifest, report, time.perf_counter() - started)


def prepare(source: str, data_config: DataConfig, model_config: ModelConfig, warn: Callable[[str], None]) -> Prepared:
    """CSV -> frame -> splits -> train-only scaler -> scaled windows and the model's sizes."""
    from forecast_cli.nn.model import ModelSpec
    from forecast_cli.nn.train import TrainingData

    table = read_table(source)
    frame = build_task_frame(table, data_config)
    for note in frame.notes:
        warn(note)
    values = frame.data.to_numpy(dtype="float64")
    splits = split_rows(len(values), data_config.val_frac, data_config.test_frac,
                        data_config.window, data_config.horizon, table.name)
    scaler = fit_scaler(values, splits, frame, table.name, warn)
    scaled = scaled_values(frame, scaler, table.name)
    data = TrainingData(scaled, training_target(frame, scaled),
                        origins_between(0, splits.train_end, data_config.window, data_config.horizon),
                        origins_between(splits.train_end, splits.val_end, data_config.window, data_config.horizon),
                        data_config.window, data_config.horizon, classify=frame.labels is not None)
    classification = classification_record(frame.labels, data.train_origins, data.horizon) if frame.labels else None
    spec = ModelSpec(n_features=values.shape[1], horizon=data_config.horizon, cell=model_config.cell,
                     hidden_size=model_config.hidden_size, num_layers=model_config.num_layers,
                     dropout=model_config.dropout, bidirectional=model_config.bidirectional,
                     relative=len(frame.spec.numeric) if data_config.norm == "window" else 0,
                     decoder=model_config.decoder, task=data_config.task,
                     n_classes=len(frame.labels.classes) if frame.labels else 0)
    return Prepared(table, frame, splits, scaler, data, spec, classification)


def _train(prepared: Prepared, configs: tuple, out: Path, warn: Callable[[str], None], on_epoch_end: Callable | None,
           should_stop: Callable[[], bool] | None, resume: bool):
    """Build the model (or take it from the checkpoint) and train; on a stop request, checkpoint and raise."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, train_model

    stamp = checkpoint.fingerprint(prepared.table.sha256, {name: to_dict(c) for name, c in
                                   zip(("data", "model", "train"), configs)}, prepared.scaler.to_dict())
    progress = _resume_from(out, stamp, prepared.spec, resume, warn)
    if should_stop and should_stop():
        raise Interrupted(f"interrupted: stopped before training started; {out} is unchanged.")
    seed_everything(configs[2].seed)
    try:
        model = Forecaster(prepared.spec)
    except RuntimeError as exc:  # torch's allocator failing for --hidden / --layers too large
        raise ConfigError(f"--hidden {configs[1].hidden_size} with --layers {configs[1].num_layers} needs more "
                          "memory than this machine has; choose smaller sizes.") from exc
    trained = train_model(model, prepared.data, configs[2], on_epoch_end, should_stop, progress)
    if trained.interrupted:
        stopped = trained.interrupted
        where = f"in epoch {stopped.epoch} after {stopped.batches_done} batch(es)"
        from safetensors import SafetensorError

        try:
            saved = checkpoint.save(out, stopped, stamp)
        except (OSError, SafetensorError) as exc:
            raise Interrupted(f"interrupted: stopped {where}, but the checkpoint could not be saved "
                              f"({artifact.write_failure(exc)}); {out} is unchanged.") from exc
        raise Interrupted(f"interrupted: stopped {where}; checkpoint saved to {saved}; {out} is unchanged. "
                          "Run the same command with --resume to continue.")
    return model, trained


def _resume_from(out: Path, stamp: dict, spec, resume: bool, warn: Callable[[str], None]):
    """The checkpointed progress to continue, or None to start from the beginning."""
    where = checkpoint.location(out)
    if resume and checkpoint.exists(out):
        progress = checkpoint.load(out, stamp)
        check_weights(expected_shapes(spec), progress.model_state, str(where))
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


def _describe(source: str, prepared: Prepared, model, trained, configs: tuple) -> tuple[dict, dict | None, str]:
    """The test-part backtest and the manifest, from the trained model."""
    from forecast_cli.nn.model import decoder_record

    data_config = configs[0]
    frame, splits, scaler = prepared.frame, prepared.splits, prepared.scaler
    predictor = make_predictor(torch_forward(model), scaler, data_config.window, data_config.horizon,
                               prepared.classification)
    target = frame.data.to_numpy(dtype="float64")[:, 0]
    season = data_config.season or season_of(frame.freq)
    mase_scale = naive_scale(target[: splits.train_end])
    test_origins = origins_between(splits.val_end, splits.rows, data_config.window, data_config.horizon)
    report = backtest(predictor, frame, test_origins, season, mase_scale).result if len(test_origins) else None
    manifest = build_manifest(source, prepared.table.sha256, len(prepared.table.raw), frame, splits, scaler,
                              prepared.spec, trained, configs, season, mase_scale, report)
    manifest["decoder"] = decoder_record(prepared.spec)
    manifest["task"], manifest["classification"] = data_config.task, prepared.classification
    name = prepared.table.name
    report_md = markdown(report, f"Test part of {name}") if report else "No test part (--test-frac 0).\n"
    return manifest, report, report_md


def fit_scaler(values: np.ndarray, splits: Splits, frame: Frame, name: str, warn: Callable[[str], None]) -> Scaler:
    """Z-score statistics from the training rows only; constant inputs get a warning."""
    train = values[: splits.train_end]
    columns = frame.data.columns
    _require_scalable(train, columns, name)
    scaler = Scaler.fit(train)
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


def _require_scalable(train: np.ndarray, columns, name: str) -> None:
    """Name the column too large to normalize (values beyond float64's max / 16: see column_statistics)."""
    mean, spread = column_statistics(train)
    for index in np.flatnonzero(~(np.isfinite(spread) & np.isfinite(mean))):
        largest = float(np.nanmax(np.abs(train[:, index])))
        raise DataError(f"{name}: column {columns[index]!r} holds values too large to normalize (up to "
                        f"{largest:.3g}); rescale it (for example to millions) and retry.")


def _stamp(frame: Frame, row: int):
    """The timestamp (ISO text) of a row, or the row number when the data has no time column."""
    index = frame.data.index
    if row < 0:
        return None
    value = index[row]
    return value.isoformat() if hasattr(value, "isoformat") else int(row + 1)


def build_manifest(source: str, sha256: str, raw_rows: int, frame: Frame, splits: Splits, scaler: Scaler,
                   spec, trained, configs: tuple, season: int | None, mase_scale: float, report: dict | None) -> dict:
    """Everything predict and evaluate need, plus provenance; JSON types only."""
    import pandas as pd
    import torch

    data_config, model_config, train_config = configs
    return {
        "format_version": artifact.FORMAT_VERSION,
        "tool_version": __version__,
        "versions": {"forecast": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "python": platform.python_version()},
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {"data": to_dict(data_config), "model": to_dict(model_config), "train": to_dict(train_config)},
        "model_spec": spec.to_dict(),
        "window": data_config.window,
        "horizon": data_config.horizon,
        "data": {
            "path": None if source == "-" else str(Path(source).resolve()),
            "sha256": sha256, "rows": raw_rows, "rows_used": splits.rows,
            "dropped_leading_rows": frame.dropped_leading, "filled_values": frame.filled,
            "first_timestamp": _stamp(frame, 0), "last_timestamp": _stamp(frame, splits.rows - 1),
            "train_end": _stamp(frame, splits.train_end - 1), "val_end": _stamp(frame, splits.val_end - 1),
            "splits": {"train": splits.train_end, "val": splits.val_end - splits.train_end,
                       "test": splits.rows - splits.val_end},
        },
        "frame": {"target": frame.spec.target, "time_cols": list(frame.spec.time_cols),
                  "numeric": list(frame.spec.numeric), "categories": frame.spec.categories, "dtypes": frame.dtypes,
                  "excluded": frame.spec.excluded, "input_columns": frame.spec.input_columns},
        "frequency": frame.freq,
        "season": season,
        "scaler": scaler.to_dict(),
        "mase_scale": mase_scale,
        "training": {"device": trained.device, "best_epoch": trained.best_epoch,
                     "epochs_run": len(trained.history), "stopped_early": trained.stopped_early},
        "metrics": report["metrics"] if report else None,
        "baselines": report["baselines"] if report else None,
        "notes": frame.notes,
    }
