"""The `fit` verb: `preparing.prepare` (CSV or DataFrame -> frame -> scaled windows), training here
(one model, an ensemble, or one per series; from scratch, a checkpoint or a warm start), then
`describing.describe` (test report -> manifest), and given `out`, the model directory.

One straight line through the hops; each hop's logic lives in its own module. Around training, when
writing to `out`: its lock, leftovers of killed fits removed, and an interrupted run's checkpoint.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from forecast_cli.config import check_task_fits_model, check_training_fits
from forecast_cli.errors import ConfigError, Interrupted
from forecast_cli import ensemble
from forecast_cli.forward import check_weights
from forecast_cli.per_series import train_per_series
from forecast_cli.store import artifact, checkpoint, lock
from forecast_cli.store.atomic import real_path, remove_stale
from forecast_cli.store.manifest import Configs
from forecast_cli import describing, norm_choice
from forecast_cli.describing import FitOutcome
from forecast_cli.preparing import Prepared, norm_rival, prepare, with_scaler


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
        start = _open_warm_start(warm_start) if warm_start is not None else None
        if start is not None:
            configs = start.kept_calendar(configs)
        asked, prepared = configs, prepare(source, configs, warn, test_from)
        configs = prepared.configs
        if start is not None and prepared.many is not None:
            raise ConfigError("--warm-start is not supported with --id-col yet (each series has its own scaler); "
                              "fit without --warm-start.")
        if start is not None:
            prepared = _warm_start(start, prepared, configs)
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
                rival = norm_rival(prepared, asked) if start is None and not distributed.launched() else None
                if rival is not None:
                    stage = "in training under the other --norm"
                    prepared, model, trained = norm_choice.keep_better(prepared, model, trained, rival,
                                                                       should_stop, warn, unchanged)
                    configs = prepared.configs
            stage = "in training the ensemble's other members"
            members = ensemble.train_members(prepared, configs, on_epoch_end, should_stop, warn)
            stage = "after training, before the model was saved"
            linear = _train_linear_baseline(prepared, configs)
            outcome = describing.describe(source, prepared, model, trained, configs, started, linear, members)
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


def _open_warm_start(directory: Path):
    """The saved model to start from (warmstart.py), read before the data: its calendar is kept."""
    from forecast_cli import warmstart

    return warmstart.open_start(real_path(Path(directory)))


def _warm_start(start, prepared: Prepared, configs: Configs) -> Prepared:
    """The saved model checked against this fit, and the data scaled by its scaler (kept, not refitted:
    warmstart.py says why)."""
    from forecast_cli import warmstart

    warmstart.refuse_incompatible(start, configs, prepared.frame.spec, prepared.classification)
    prepared = with_scaler(prepared, start.manifest.scaler, configs)
    warmstart.refuse_other_network(start, prepared.spec)
    return prepared


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
