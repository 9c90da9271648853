"""Many series, one global model: per-series splits and scalers, the training arrays of all series,
and the per-series answers (forecasts ahead, backtests) with their aggregate.

Each series is split in time and normalized with its own training part's statistics; the scaled
series are concatenated, and the training origins are one index over the concatenation that never
reaches across two series, so the windows stay views (nn/train.py gathers them from one unfold).
The per-series work of evaluation runs through joblib (`--n-jobs`, `--backend`). Imports no verb.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.data.frame import Frame
from forecast_cli.data.panel import Panel
from forecast_cli.data.windows import (Scaler, Splits, input_windows, origins_between, split_rows,
                                       split_with_test)
from forecast_cli.errors import DataError
from forecast_cli.forward import PREDICT_BATCH, Forward
from forecast_cli.metrics import naive_scale
from forecast_cli.predictors import ValuePredictor, ahead_stamps
from forecast_cli.store.series import SeriesStats

BACKENDS = ("loky", "threading", "dask", "ray")


@dataclass
class ManyPrepared:
    """The kept series, their splits and statistics, and the concatenated scaled arrays' offsets."""

    panel: Panel  # the kept series only
    splits: list[Splits]
    stats: SeriesStats
    values: np.ndarray  # (T, F) float32 z-scores of every kept series, concatenated
    offsets: np.ndarray  # (S + 1,) row where each series starts in `values`
    train_origins: np.ndarray
    val_origins: np.ndarray
    skipped: int  # series too short for a window and a horizon in their training part


def prepare_many(panel: Panel, window: int, horizon: int, val_frac: float, test_frac: float,
                 warn: Callable[[str], None], name: str, test_from: pd.Timestamp | None = None,
                 coded: bool = False) -> ManyPrepared:
    """Split and scale each series; skip (with one warning counting them) those too short. With
    `test_from` (a backtest fold's block start) each series' test part is its rows from that time on,
    whatever --test-frac says. `coded` (--id-embedding): each row also carries its series' code as a
    last column (SeriesStats.scaler)."""
    kept, splits, scalers, scales, val_ends = [], [], [], [], []
    for position, frame in enumerate(panel.frames):
        try:
            if test_from is None:
                split = split_rows(len(frame.data), val_frac, test_frac, window, horizon, name)
            else:
                test = len(frame.data) - int(frame.data.index.searchsorted(test_from))
                split = split_with_test(len(frame.data), test, val_frac, window, horizon, name)
        except DataError:
            continue
        values = frame.data.to_numpy(dtype="float64")
        kept.append(position)
        splits.append(split)
        scalers.append(Scaler.fit(values[: split.train_end]))
        scales.append(naive_scale(values[: split.train_end, 0]))
        val_ends.append(_row_stamp(frame, split.val_end - 1))
    skipped = len(panel.frames) - len(kept)
    if not kept:
        raise DataError(f"{name}: no series has enough rows for --window {window} + --horizon {horizon} in its "
                        f"training part (longest: {max(len(f.data) for f in panel.frames)} rows). Lower --window "
                        "or --horizon, or add rows.")
    if skipped:
        warn(f"{name}: skipped {skipped} of {len(panel.frames)} series with too few rows for --window {window} "
             f"+ --horizon {horizon} in their training part.")
    panel = replace(panel, frames=[panel.frames[i] for i in kept], ids=[panel.ids[i] for i in kept])
    stats = SeriesStats(panel.ids, np.stack([s.mean for s in scalers]), np.stack([s.scale for s in scalers]),
                        np.asarray(scales, dtype="float64"), np.asarray(val_ends, dtype="int64"), coded)
    values = np.concatenate([stats.scaler(i).transform(f.data.to_numpy(dtype="float64"))
                             for i, f in enumerate(panel.frames)])
    lengths = np.array([len(f.data) for f in panel.frames])
    offsets = np.r_[0, np.cumsum(lengths)]
    train = [origins_between(0, s.train_end, window, horizon) + o for s, o in zip(splits, offsets)]
    val = [origins_between(s.train_end, s.val_end, window, horizon) + o for s, o in zip(splits, offsets)]
    return ManyPrepared(panel, splits, stats, values, offsets, np.concatenate(train), np.concatenate(val), skipped)


def _row_stamp(frame: Frame, row: int) -> int:
    index = frame.data.index
    return int(index[row].value) if isinstance(index, pd.DatetimeIndex) else int(row + 1)


def predictors(stats: SeriesStats, forward: Forward, window: int, horizon: int,
               baseline_models: dict[str, Forward] | None = None) -> list[ValuePredictor]:
    """One predictor per series: the shared forward function with that series' scaler."""
    return [ValuePredictor(forward, stats.scaler(i), window, horizon, dict(baseline_models or {}))
            for i in range(len(stats.ids))]


def forecasts_ahead(panel: Panel, stats: SeriesStats, forward: Forward, window: int, horizon: int,
                    warn: Callable[[str], None], name: str) -> pd.DataFrame:
    """`<id columns>, timestamp, step, <target>` for every series the model knows: each series' last
    window, all scaled with their own statistics and run through the network in shared batches."""
    position = stats.position()
    known = [i for i, series in enumerate(panel.ids) if series in position]
    short = [i for i in known if len(panel.frames[i].data) < window]
    if len(known) < len(panel.ids):
        warn(f"{name}: {len(panel.ids) - len(known)} series were not in the training data; no forecast for them.")
    if short:
        warn(f"{name}: {len(short)} series have fewer than the {window} rows a forecast reads; no forecast for them.")
    chosen = [i for i in known if i not in set(short)]
    if not chosen:
        raise DataError(f"{name}: no series the model knows has the last {window} rows a forecast reads.")
    rows = [position[panel.ids[i]] for i in chosen]
    windows = np.stack([(panel.frames[i].data.to_numpy(dtype="float64")[-window:] - stats.mean[r]) / stats.scale[r]
                        for i, r in zip(chosen, rows)]).astype(np.float32)  # (S, L, F)
    if stats.coded:  # each window's series code as its last column, as SeriesStats.scaler gives it
        codes = np.broadcast_to(np.asarray(rows, dtype=np.float32)[:, None, None], (len(rows), window, 1))
        windows = np.concatenate([windows, codes], axis=2)  # (S, L, F + 1)
    scaled = windows.reshape(-1, windows.shape[-1])
    origins = np.arange(len(chosen)) * window + window  # each series' window ends where the next begins
    if isinstance(forward, list):  # --per-series: each window through its own series' model
        outputs = np.concatenate([forward[r](windows[k: k + 1]) for k, r in enumerate(rows)])  # (S, H)
    else:
        outputs = _forward_at(forward, scaled, origins, window, horizon)  # (S, H)
    values = outputs.astype(np.float64) * stats.scale[rows, :1] + stats.mean[rows, :1]
    table = pd.DataFrame({"series": np.repeat([panel.ids[i] for i in chosen], horizon),
                          "timestamp": np.concatenate([ahead_stamps(panel.frames[i], panel.freq, horizon)
                                                       for i in chosen]),
                          "step": np.tile(np.arange(1, horizon + 1), len(chosen)),
                          panel.spec.target: values.reshape(-1)})
    return _with_id_columns(table, panel.id_cols)


def _forward_at(forward: Forward, scaled: np.ndarray, origins: np.ndarray, window: int, width: int) -> np.ndarray:
    """The forward pass at origins that need not be consecutive, gathered from one window view in batches."""
    views = input_windows(scaled, window)  # (T - L + 1, L, F) view
    chunks = [forward(np.array(views[origins[start: start + PREDICT_BATCH] - window]))
              for start in range(0, len(origins), PREDICT_BATCH)]
    return np.concatenate(chunks) if chunks else np.empty((0, width))


def _with_id_columns(table: pd.DataFrame, id_cols: tuple[str, ...]) -> pd.DataFrame:
    """The `series` name split back into the id columns it was joined from, first in the table."""
    from forecast_cli.data.panel import ID_SEPARATOR

    parts = table.pop("series")
    if len(id_cols) == 1:
        ids = pd.DataFrame({id_cols[0]: parts})
    else:
        ids = parts.str.split(ID_SEPARATOR, n=len(id_cols) - 1, expand=True)
        ids.columns = list(id_cols)
    return pd.concat([ids.reset_index(drop=True), table.reset_index(drop=True)], axis=1)


def score_series(panel: Panel, stats: SeriesStats, forward: Forward, window: int, horizon: int,
                 origins: list[np.ndarray], season: int | None, baseline_models: dict[str, Forward] | None = None,
                 n_jobs: int = 1, backend: str = "loky") -> dict:
    """Backtest every series of `panel` from its `origins` (one array per series; series with none are
    left out) and aggregate: the `evaluate --json` object of a many-series model."""
    position = stats.position()
    work = [(i, position[series]) for i, series in enumerate(panel.ids) if series in position and len(origins[i])]
    if not work:
        raise DataError("no series has a forecast origin with a full window before it and a full horizon after it "
                        "outside the period the model was fitted and tuned on; give more rows.")
    blocks = np.array_split(np.arange(len(work)), max(1, min(len(work), 4 * max(n_jobs, 1))))
    tasks = [[(panel.frames[work[k][0]], stats.scaler(work[k][1]), origins[work[k][0]],
               float(stats.mase_scale[work[k][1]]), series_forward(forward, work[k][1])) for k in block]
             for block in blocks if len(block)]
    results = _run(_score_block, tasks, (window, horizon, season, dict(baseline_models or {})), n_jobs, backend)
    scored = [result for block in results for result in block]
    names = [panel.ids[i] for i, _ in work]
    return aggregate(dict(zip(names, scored)), horizon)


def series_forward(forward, position: int):
    """The forward function of the series at `position`: the shared one, or (--per-series) its own."""
    return forward[position] if isinstance(forward, list) else forward


def _score_block(block, window, horizon, season, baseline_models) -> list[dict]:
    """Backtests of one block of series (one joblib task): metrics, per step and baselines for each."""
    out = []
    for frame, scaler, origins, mase_scale, forward in block:
        predictor = ValuePredictor(forward, scaler, window, horizon, baseline_models)
        result = predictor.backtest(frame, origins, season, mase_scale).result
        out.append({key: result[key] for key in ("metrics", "baselines", "per_step", "windows", "excluded_zero_targets")})
    return out


def _run(function, tasks: list, shared: tuple, n_jobs: int, backend: str) -> list:
    """`function(task, *shared)` for every task, through joblib on the chosen backend."""
    if n_jobs == 1 or len(tasks) == 1:
        return [function(task, *shared) for task in tasks]
    from joblib import Parallel, delayed, parallel_config

    with parallel_config(backend=prepare_backend(backend), n_jobs=n_jobs):
        return Parallel()(delayed(function)(task, *shared) for task in tasks)


def prepare_backend(backend: str) -> str:
    """The joblib backend name, after registering or connecting the cluster ones (dask: a
    distributed Client, at DASK_SCHEDULER_ADDRESS when set; ray: `ray.init` at RAY_ADDRESS or local)."""
    import os

    from forecast_cli.errors import ConfigError

    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
    try:
        if backend == "dask":
            from dask.distributed import Client, get_client

            try:
                get_client()
            except ValueError:
                Client(os.environ.get("DASK_SCHEDULER_ADDRESS"))
        elif backend == "ray":
            import ray
            from ray.util.joblib import register_ray

            if not ray.is_initialized():
                ray.init(address=os.environ.get("RAY_ADDRESS"))
            register_ray()
    except ImportError:
        extra = "dask" if backend == "dask" else "ray"
        raise ConfigError(f"--backend {backend} needs the {extra} package; install it with "
                          f"pip install 'forecast-cli[{extra}]', or use --backend loky.") from None
    return backend


def aggregate(per_series: dict[str, dict], horizon: int) -> dict:
    """The many-series result: each series' scores, their mean and median per metric, the share of series
    on which the model beats each free baseline (by MASE), and means shaped like a one-series result
    (`metrics`, `baselines`, `per_step`) so the one-line summary and the Markdown report read it too."""
    results = list(per_series.values())
    metrics = list(results[0]["metrics"])
    baselines = sorted({name for r in results for name in r["baselines"]})
    mean = {m: _mean([r["metrics"][m] for r in results]) for m in metrics}
    median = {m: _median([r["metrics"][m] for r in results]) for m in metrics}
    sharing = {}
    for name in baselines:
        pairs = [(r["metrics"]["mase"], r["baselines"][name]["mase"]) for r in results if name in r["baselines"]]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        sharing[name] = round(sum(a < b for a, b in pairs) / len(pairs), 4) if pairs else None
    return {
        "metrics": mean,
        "baselines": {name: {m: _mean([r["baselines"][name][m] for r in results if name in r["baselines"]])
                             for m in metrics} for name in baselines},
        "per_step": [{"step": step + 1, **{m: _mean([r["per_step"][step][m] for r in results]) for m in metrics}}
                     for step in range(horizon)],
        "horizon": horizon,
        "windows": int(sum(r["windows"] for r in results)),
        "excluded_zero_targets": int(sum(r["excluded_zero_targets"] for r in results)),
        "aggregate": {"series": len(results), "mean": mean, "median": median, "share_beating": sharing},
        "series": {name: {"metrics": r["metrics"], "baselines": r["baselines"]} for name, r in per_series.items()},
    }


def _mean(values) -> float | None:
    kept = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def _median(values) -> float | None:
    kept = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.median(kept)) if kept else None
