"""`backtest --id-col`: the K expanding-window refits of backtesting.py over many series at once.

The cuts are in time, common to every series: the one-series rule (backtesting.plan_folds) is
applied to the reference series, the longest (as its recipe is every series' recipe), and its block
boundaries are timestamps. Fold k fits one global model on every row of every series before its
block's end (the last block's end: the data's end), with each series' test part exactly its rows
from the block's start on (fit's `test_from` hook; --test-frac does not decide it), validation
--val-frac of each series' fold rows before that, and the scalers on each series' training part. So
no fold trains or tunes on any series' rows at or after its block start, and the blocks tile every
series' end without overlap. A series whose own rows in a fold leave too few for --window +
--horizon before the block is skipped by that fold's fit with its one warning; one without a full
horizon in the block trains but is not scored.

Each fold reports the aggregate of its fit's test report (means over series, median, share of
series beating each baseline) and across folds the mean ± std of those means, in backtesting.py's
--json shape plus `series`, `id_col`, `reference_series` and each fold's `aggregate`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.backtesting import FOLD_DATA_NAME, _fold_warner, _headline, aggregate, plan_folds
from forecast_cli.config import DataConfig
from forecast_cli.data.io import read_source
from forecast_cli.data.panel import build_panel
from forecast_cli.data.timeindex import parse_time
from forecast_cli.data.windows import validation_rows
from forecast_cli.errors import ConfigError, DataError
from forecast_cli.notes import Info, without_name


def block_starts(index: pd.DatetimeIndex, folds: int, test_frac: float, horizon: int, name: str) -> list:
    """The reference series' K block starts (timestamps), by the one-series rule on its rows; and B."""
    plans = plan_folds(len(index), folds, test_frac, horizon, name)
    return [index[plan.start] for plan in plans], plans[0].block


def backtest_many(source, data_config: DataConfig, folds: int, fit_fold: Callable, warn: Callable[[str], None]) -> dict:
    """Plan common cuts, fit each fold through `fit_fold(rows, test_from, warn)` (a DataFrame of the raw
    rows before the block's end, the block's first timestamp -> fit.FitOutcome), and aggregate."""
    table = read_source(source)
    config = data_config
    panel = build_panel(table.raw, table.name, config.target, config.features, config.time_col, config.id_col,
                        config.horizon, config.calendar)
    if not panel.spec.time_cols:
        raise ConfigError(f"{table.name}: backtest --id-col needs a time column to cut every series at the same "
                          "times; name it with --time-col.")
    for note in panel.notes:
        warn(note)
    shown = {without_name(note, table.name) for note in panel.notes}
    reference = max(range(len(panel.frames)), key=lambda i: len(panel.frames[i].data))
    starts, block = block_starts(panel.frames[reference].data.index, folds, config.test_frac, config.horizon,
                                 f"{table.name} (its longest series, {panel.ids[reference]!r})")
    stamps = parse_time(table.raw, panel.spec.time_cols, table.name)
    ends = [*starts[1:], None]
    results = []
    for number, (start, end) in enumerate(zip(starts, ends), 1):
        rows = table.raw[np.asarray(stamps < end)] if end is not None else table.raw
        try:
            outcome = fit_fold(rows.reset_index(drop=True), start, _fold_warner(number, shown, warn))
        except DataError as exc:
            raise DataError(f"{table.name}: fold {number} of {folds} (its rows before {_iso(end)}, test from "
                            f"{_iso(start)}): {without_name(str(exc), FOLD_DATA_NAME)}") from exc
        results.append(_fold_result(number, panel, outcome, start, end))
        warn(Info(f"fold {number}/{folds}: test {results[-1]['test']['first']} .. {results[-1]['test']['last']}, "
                  f"{results[-1]['aggregate']['series']} series scored, {_headline(results[-1])}"))
    return {"data": table.name, "task": results[0]["task"], "rows": sum(len(f.data) for f in panel.frames),
            "series": len(panel.ids), "id_col": list(config.id_col), "reference_series": panel.ids[reference],
            "folds": folds, "horizon": config.horizon, "block_rows": block, "per_fold": results,
            "aggregate": aggregate(results)}


def _fold_result(number: int, panel, outcome, start, end) -> dict:
    """One fold's boundaries over its series (rows summed; the earliest first and latest last timestamp),
    its aggregate, and the means over series as metrics and baselines."""
    report = outcome.report
    if report is None:
        raise DataError(f"fold {number}: no series has a full --horizon in the block from {_iso(start)}; use a "
                        "smaller --horizon or --folds, or a larger --test-frac.")
    position = {series: i for i, series in enumerate(panel.ids)}
    parts = {"train": [], "validation": [], "test": []}
    for series in outcome.series.ids:  # the series the fold's fit kept, cut as it cut them
        index = panel.frames[position[series]].data.index
        index = index[index < end] if end is not None else index
        test = int(index.searchsorted(start))
        config = outcome.manifest.configs.data
        val = test - validation_rows(len(index), config.val_frac, config.horizon)
        parts["train"].append(index[:val])
        parts["validation"].append(index[val:test])
        parts["test"].append(index[test:])
    boundaries = {name: _part(pieces) for name, pieces in parts.items()}
    boundaries["test"]["origins"] = report["windows"]
    return {"fold": number, "task": report.get("task", "forecast"), **boundaries,
            "best_epoch": outcome.manifest.training.best_epoch, "epochs_run": outcome.manifest.training.epochs_run,
            "metrics": report["metrics"], "baselines": report["baselines"], "aggregate": report["aggregate"]}


def _part(pieces: list[pd.DatetimeIndex]) -> dict:
    present = [piece for piece in pieces if len(piece)]
    return {"rows": int(sum(len(piece) for piece in pieces)),
            "first": min(piece[0] for piece in present).isoformat() if present else None,
            "last": max(piece[-1] for piece in present).isoformat() if present else None}


def _iso(stamp) -> str:
    return "the end of the data" if stamp is None else pd.Timestamp(stamp).isoformat()
