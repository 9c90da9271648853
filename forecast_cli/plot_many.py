"""`plot` for a many-series model: a grid with one panel per chosen series (recent rows, the step-1
backtest from each origin, the forecast ahead), then the training curves. Without `--ids`, the
series shown are the best and the worst by backtest MASE, so one picture says how wide the spread is.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from forecast_cli.evaluate import evaluate_many, series_origins
from forecast_cli.loaded import LoadedModel, Source
from forecast_cli.many import forecasts_ahead, series_forward
from forecast_cli.plot import CLOSE_UP_MIN_ROWS, Curves, _date_axis, _draw_losses, _pyplot, save_figure
from forecast_cli.predictors import ValuePredictor

SHOWN_EACH_END = 3  # without --ids: this many best and this many worst series
COLUMNS = 2


def plot_many(model: LoadedModel, data: Source | None, out: Path, warn: Callable[[str], None],
              ids: list[str] | None, n_jobs: int = 1, backend: str = "loky") -> Path:
    """Draw the chosen series (all of `ids`, else the best and worst few) and the training curves to `out`."""
    chosen = ids or _best_and_worst(evaluate_many(model, data, lambda message: None, None, n_jobs, backend))
    panel, table, source = model.read_panel(data, warn)
    panel = panel.select(chosen, table.name)
    manifest, stats = model.manifest, model.series
    origins = series_origins(panel, model, model.is_training_data(source, table))
    ahead = forecasts_ahead(panel, stats, model.forward_of_series(), manifest.window, manifest.horizon,
                            lambda message: None, table.name)
    position = stats.position()
    plt = _pyplot()
    rows = math.ceil(len(panel.ids) / COLUMNS)
    figure = plt.figure(figsize=(12, 2.8 * rows + 2.4))
    grid = figure.add_gridspec(rows + 1, COLUMNS, height_ratios=[2.8] * rows + [2.0])
    for number, (series, frame, starts) in enumerate(zip(panel.ids, panel.frames, origins)):
        axis = figure.add_subplot(grid[number // COLUMNS, number % COLUMNS])
        predictor = ValuePredictor(series_forward(model.forward_of_series(), position[series]),
                                   stats.scaler(position[series]), manifest.window,
                                   manifest.horizon)
        tested = (predictor.backtest(frame, starts, manifest.season, float(stats.mase_scale[position[series]]))
                  if len(starts) else None)
        _draw_series(axis, frame, tested, ahead.iloc[:, -1][_rows_of(ahead, panel, series)].to_numpy(), series,
                     manifest.window)
    losses = figure.add_subplot(grid[rows, :])
    _draw_losses(losses, Curves(model.training_history(), manifest.training.best_epoch))
    figure.suptitle(f"{panel.spec.target} — {table.name}: {len(panel.ids)} of {len(stats.ids):,} series")
    figure.tight_layout()
    save_figure(figure, out)
    return out


def _best_and_worst(result: dict) -> list[str]:
    """The SHOWN_EACH_END series of lowest and of highest MASE (all of them when there are few)."""
    scored = sorted((r["metrics"]["mase"], name) for name, r in result["series"].items()
                    if r["metrics"]["mase"] is not None)
    names = [name for _, name in scored]
    if len(names) <= 2 * SHOWN_EACH_END:
        return names
    return names[:SHOWN_EACH_END] + names[-SHOWN_EACH_END:]


def _rows_of(ahead, panel, series: str) -> np.ndarray:
    """The forecast table's rows for one series (the id columns joined as the series name)."""
    from forecast_cli.data.panel import ID_SEPARATOR
    from forecast_cli.data.timeindex import joined_text

    names = joined_text(ahead, tuple(panel.id_cols), ID_SEPARATOR)
    return (names == series).to_numpy()


def _draw_series(axis, frame, tested, ahead_values: np.ndarray, series: str, window: int) -> None:
    target = frame.data[frame.spec.target]
    recent = max(0, len(target) - max(6 * window, CLOSE_UP_MIN_ROWS * 2))
    axis.plot(target.index[recent:], target.to_numpy()[recent:], color="black", linewidth=0.9, label="actual")
    title = series
    if tested is not None:
        shown = tested.origins >= recent
        axis.plot(target.index[tested.origins[shown]], tested.predicted[shown, 0], color="tab:blue", linewidth=0.9,
                  label="step-1 backtest")
        mase, naive = tested.result["metrics"]["mase"], tested.result["baselines"]["naive"]["mase"]
        if mase is not None and naive is not None:
            title += f": mase {mase:.3f} (naive {naive:.3f})"
    if len(ahead_values):
        future = _future_positions(frame, len(ahead_values))
        axis.plot([target.index[-1], *future], [target.iloc[-1], *ahead_values], color="tab:red", marker="o",
                  markersize=3, linewidth=1.2, label="forecast ahead")
    axis.set_title(title, fontsize=9)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=7)
    _date_axis(axis, target.index)


def _future_positions(frame, steps: int):
    from forecast_cli.data.timeindex import future_timestamps

    index = frame.data.index
    if frame.freq and hasattr(index, "freq"):
        return list(future_timestamps(index[-1], frame.freq, steps))
    return list(range(len(index), len(index) + steps))
