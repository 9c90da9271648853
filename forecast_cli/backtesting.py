"""`backtest`: K expanding-window refits, each a normal fit scored on the block of rows after it.
(The module is backtesting.py because `forecast_cli.backtest` is the API function, which a
submodule of the same name would shadow.)

The rule: the last --test-frac of the frame's rows (at least K blocks of 2*horizon-1 rows) is cut
into K equal blocks of B rows, the last K*B rows of the data; the rows left over go to the first
fold's training. Fold k sees every row before its block's end and fits on it as `fit` would, with
its block as the test part: training and validation (--val-frac of the fold's rows) come before
the block, the scaler is fitted on the fold's training part only, and the fit's own test-part
backtest scores the block: every origin whose whole horizon lies inside it (B - H + 1 >= H
origins), beside naive, seasonal naive and the linear baseline. A fold never trains or tunes on
its block, and the blocks tile the end of the data without overlap.

The fit itself is the caller's (`fit_fold`: the API passes its own `fit`, so every fit option works
here too); this module plans the folds, cuts the data, and aggregates mean and standard deviation
(ddof 1; None with one fold) of every score across folds. Formatting of the result lives here too:
it has one table of its own.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.config import DataConfig
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import build_task_frame
from forecast_cli.data.timeindex import parse_time
from forecast_cli.errors import ConfigError, DataError
from forecast_cli.notes import Info, without_name

MAX_FOLDS = 1000
BASELINE_TITLES = {"naive": "naive", "seasonal_naive": "seasonal naive", "linear": "linear",
                   "majority": "majority", "persistence": "persistence"}
FOLD_DATA_NAME = "<DataFrame>"  # what a fold's fit calls the rows it is handed


@dataclass(frozen=True)
class FoldPlan:
    """Frame rows [0, stop) for fold k's fit; its test block is [stop - block, stop)."""

    fold: int
    stop: int
    block: int

    @property
    def start(self) -> int:
        return self.stop - self.block


def plan_folds(rows: int, folds: int, test_frac: float, horizon: int, name: str) -> list[FoldPlan]:
    """K blocks of B rows tiling the last K*B rows: B = max(round(rows * test_frac) // K, 2H - 1)."""
    if not 1 <= folds <= MAX_FOLDS:
        raise ConfigError(f"--folds must be between 1 and {MAX_FOLDS}, not {folds}.")
    if test_frac <= 0:
        raise ConfigError("--test-frac 0 leaves no rows to backtest on; the K blocks cover the last --test-frac "
                          "of the rows (for example --test-frac 0.2).")
    block = max(int(round(rows * test_frac)) // folds, 2 * horizon - 1)
    first = rows - folds * block
    if first < block:  # the first fold must at least have as many rows before its block as in it
        raise DataError(f"{name}: --folds {folds} with --horizon {horizon} needs blocks of {block} rows "
                        f"({folds * block} in all), leaving {max(first, 0)} of the {rows} rows before the first "
                        "block; use fewer --folds, a smaller --test-frac or --horizon, or add rows.")
    return [FoldPlan(k + 1, first + (k + 1) * block, block) for k in range(folds)]


def backtest(source, data_config: DataConfig, folds: int, fit_fold: Callable, warn: Callable[[str], None]) -> dict:
    """Plan the folds on `source`'s frame, fit each through `fit_fold(rows, test_frac, warn)` (a
    DataFrame of the raw rows up to the block's end -> fit.FitOutcome), and aggregate their scores:
    what `forecast backtest --json` prints."""
    table = read_source(source)
    frame = build_task_frame(table, data_config)
    for note in frame.notes:
        warn(note)
    shown = {without_name(note, table.name) for note in frame.notes}
    plans = plan_folds(len(frame.data), folds, data_config.test_frac, data_config.horizon, table.name)
    positions = _frame_positions(table, frame)
    results = []
    for plan in plans:
        rows = table.raw.iloc[positions[: plan.stop]] if positions is not None else None
        if rows is None:
            rows = table.raw[_up_to(table, frame, plan.stop)]
        try:
            outcome = fit_fold(rows.reset_index(drop=True), plan.block / plan.stop,
                               _fold_warner(plan.fold, shown, warn))
        except DataError as exc:
            raise DataError(f"{table.name}: fold {plan.fold} of {folds} (its first {plan.stop} rows, the last "
                            f"{plan.block} its test block): {without_name(str(exc), FOLD_DATA_NAME)}") from exc
        results.append(_fold_result(plan, frame, outcome))
        warn(Info(f"fold {plan.fold}/{folds}: test {results[-1]['test']['first']} .. {results[-1]['test']['last']}, "
                  f"{_headline(results[-1])}"))
    return {"data": table.name, "task": results[0]["task"], "rows": len(frame.data), "folds": folds,
            "horizon": data_config.horizon, "block_rows": plans[0].block, "per_fold": results,
            "aggregate": aggregate(results)}


def _frame_positions(table: Table, frame: Frame) -> np.ndarray | None:
    """Raw row positions in frame order, for data read in file order (frame row i is raw row
    dropped_leading + i); None for time-indexed data, which is cut by timestamp instead."""
    if frame.spec.time_cols:
        return None
    return np.arange(frame.dropped_leading, frame.dropped_leading + len(frame.data))


def _up_to(table: Table, frame: Frame, stop: int) -> np.ndarray:
    """Raw rows (a mask, in file order) whose timestamp is at most frame row stop - 1's."""
    stamps = parse_time(table.raw, frame.spec.time_cols, table.name)
    return np.asarray(stamps <= frame.data.index[stop - 1])


def _fold_warner(fold: int, shown: set[str], warn: Callable[[str], None]) -> Callable[[str], None]:
    """A fold's notes, once each and named by the fold; what the whole data's frame already said is not
    repeated, nor the fits' "read N rows" lines."""
    def fold_warn(message: str) -> None:
        if isinstance(message, Info):
            return
        text = without_name(str(message), FOLD_DATA_NAME)
        if text not in shown:
            shown.add(text)
            warn(f"fold {fold}: {text}")

    return fold_warn


def _fold_result(plan: FoldPlan, frame: Frame, outcome) -> dict:
    """One fold's boundaries (timestamps, or 1-based row numbers) and its test-block scores."""
    splits = outcome.manifest.data.splits
    train, val, test = splits["train"], splits["val"], splits["test"]
    if train + val + test != plan.stop or test != plan.block or outcome.report is None:
        raise RuntimeError(f"fold {plan.fold}: the fit split {train}+{val}+{test} rows, not "
                           f"{plan.stop - plan.block}+{plan.block}")
    report = outcome.report
    return {
        "fold": plan.fold,
        "task": report.get("task", "forecast"),
        "train": _part(frame, 0, train),
        "validation": _part(frame, train, train + val),
        "test": {**_part(frame, plan.start, plan.stop), "origins": report["windows"]},
        "best_epoch": outcome.manifest.training.best_epoch,
        "epochs_run": outcome.manifest.training.epochs_run,
        "metrics": report["metrics"],
        "baselines": report["baselines"],
    }


def _headline(result: dict) -> str:
    """The fold's main score beside naive's, for its progress line."""
    defined = result["metrics"].get("mase") is not None
    name = "accuracy" if result["task"] == "classify" else "mase" if defined else "mae"
    base = "majority" if result["task"] == "classify" else "naive"
    model, baseline = result["metrics"].get(name), result["baselines"].get(base, {}).get(name)
    shown = [f"{value:.4g}" if value is not None else "-" for value in (model, baseline)]
    return f"{name} {shown[0]} vs {base} {shown[1]}"


def _part(frame: Frame, start: int, stop: int) -> dict:
    return {"rows": stop - start, "first": _stamp(frame, start) if stop > start else None,
            "last": _stamp(frame, stop - 1) if stop > start else None}


def _stamp(frame: Frame, row: int):
    """A row's timestamp as ISO text, or its 1-based row number without a time column (as the manifest)."""
    value = frame.data.index[row]
    return value.isoformat() if isinstance(value, pd.Timestamp) else int(row + 1)


def aggregate(results: list[dict]) -> dict:
    """Mean and standard deviation across folds of every metric, the model's and each baseline's."""
    names = list(results[0]["metrics"])
    baselines = list(results[0]["baselines"])
    return {"metrics": {name: _spread([r["metrics"].get(name) for r in results]) for name in names},
            "baselines": {base: {name: _spread([r["baselines"].get(base, {}).get(name) for r in results])
                                 for name in names} for base in baselines}}


def _spread(values: list) -> dict:
    """Over the folds where the score is defined (MAPE is not on an all-zero block): mean, std (ddof 1)."""
    defined = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    mean = float(np.mean(defined)) if defined else None
    std = float(np.std(defined, ddof=1)) if len(defined) > 1 else None
    return {"mean": mean, "std": std, "folds": len(defined)}


def _cell(spread: dict) -> str:
    if spread["mean"] is None:
        return "-"
    return f"{spread['mean']:.4g}" + (f" ± {spread['std']:.2g}" if spread["std"] is not None else "")


def table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per metric, the model's mean ± std beside each baseline's."""
    aggregate_ = result["aggregate"]
    bases = list(aggregate_["baselines"])
    header = ["metric", "model", *(BASELINE_TITLES.get(base, base) for base in bases)]
    rows = [[name, _cell(spread), *(_cell(aggregate_["baselines"][base][name]) for base in bases)]
            for name, spread in aggregate_["metrics"].items()]
    return header, rows


def title(result: dict) -> str:
    if "series" in result:  # many series (backtest_many.py): blocks cut in time, means over series per fold
        return (f"Backtest of {result['data']} ({result['series']:,} series): {result['folds']} fold(s), test "
                f"blocks of {result['block_rows']} steps (horizon {result['horizon']}); mean over series, "
                "then mean ± std across folds")
    return (f"Backtest of {result['data']}: {result['folds']} fold(s), test blocks of {result['block_rows']} rows "
            f"(horizon {result['horizon']}); mean ± std across folds")


def text_table(result: dict) -> str:
    """The table for a terminal or a log: aligned columns, the title above."""
    header, rows = table_rows(result)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    folds = [f"fold {f['fold']}: train {f['train']['first']} .. {f['train']['last']}, test {f['test']['first']} .. "
             f"{f['test']['last']} ({f['test']['origins']} origins){_beating(f)}" for f in result["per_fold"]]
    return "\n".join([title(result), "", *lines, "", *folds]) + "\n"


def _beating(fold: dict) -> str:
    """A many-series fold's share of series beating naive (by MASE), for its line; nothing for one series."""
    share = fold.get("aggregate", {}).get("share_beating", {}).get("naive")
    return "" if share is None else f", beats naive on {share:.0%} of {fold['aggregate']['series']} series"


def markdown(result: dict) -> str:
    """The same table as Markdown (backtest.md under --out)."""
    header, rows = table_rows(result)
    lines = [f"# {title(result)}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "| fold | train | validation | test | origins |", "|---|---|---|---|---|"]
    lines += [f"| {f['fold']} | {f['train']['first']} .. {f['train']['last']} | {f['validation']['first']} .. "
              f"{f['validation']['last']} | {f['test']['first']} .. {f['test']['last']} | {f['test']['origins']} |"
              for f in result["per_fold"]]
    return "\n".join(lines) + "\n"


def check_out(directory: Path) -> None:
    """Refuse an --out that cannot become a folder (a file, or under a missing folder) before any work."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--out {directory}: is a file; give a folder for backtest.json and backtest.md.")
    if not directory.exists() and not directory.parent.exists():
        raise ConfigError(f"--out {directory}: folder {directory.parent} does not exist; create it or choose "
                          "another path.")


def save(result: dict, directory: Path) -> list[Path]:
    """backtest.json and backtest.md into `directory` (created if missing), each written atomically."""
    from forecast_cli.store.atomic import write_text

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {directory}: cannot create that folder ({exc.strerror or exc}); "
                          "choose another path.") from exc
    written = [directory / "backtest.json", directory / "backtest.md"]
    write_text(written[0], json.dumps(result, indent=2) + "\n")
    write_text(written[1], markdown(result))
    return written
