"""`plot`: results -> an image (PNG, SVG or PDF, by the file name): an overview of the history and the
backtest, a close-up of the last few windows with the backtest and the forecast ahead, and the training
curves with the best epoch marked; for a classifier, the predicted probability over the actual label.
The only module that imports matplotlib (Agg backend, no display needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.errors import ConfigError
from forecast_cli.evaluate import evaluate
from forecast_cli.loaded import LoadedModel, Source
from forecast_cli.store.atomic import write_file

HISTORY_POINTS = 400  # rows of history drawn in the overview before the backtest range
CLOSE_UP_WINDOWS = 3  # the close-up shows this many windows of recent rows (at least CLOSE_UP_MIN_ROWS)
CLOSE_UP_MIN_ROWS = 30
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
LOG_SPAN = 20  # the loss axis turns logarithmic when its largest value is this many times its smallest


@dataclass
class Curves:
    """The training curves and the epoch whose weights were kept."""

    history: list[dict]
    best_epoch: int
    loss: str = "MSE (scaled)"


def plot(model: LoadedModel, data: Source | None, out: Path, warn: Callable[[str], None]) -> Path:
    """Backtest and forecast `model` on `data` (default: the training data), then draw both to `out`."""
    out = check_image_path(Path(out))
    evaluation = evaluate(model, data, warn, require_origins=False, whole=True)  # it draws every row
    frame = evaluation.frame
    ahead = model.predictor.ahead(frame, model.manifest.frequency)
    title = f"{frame.labels.name if frame.labels else frame.spec.target} — {evaluation.table.name}"
    curves = Curves(model.training_history(), model.manifest.training.best_epoch,
                    "pinball (scaled)" if model.manifest.configs.model.quantiles else Curves.loss)
    if model.manifest.classification:
        figure = draw_classes(frame, evaluation.backtest, ahead, Curves(curves.history, curves.best_epoch,
                                                                       "cross-entropy"), title)
    else:
        figure = draw(frame, evaluation.backtest, ahead, curves, title, model.manifest.window)
    save_figure(figure, out)
    return out


def check_image_path(out: Path) -> Path:
    """`out` if an image can be written there (a .png, .svg or .pdf name in an existing folder), else a
    ConfigError saying what to change, before any work is done."""
    if out.suffix.lower() not in FORMATS:
        raise ConfigError(f"--out {out}: plots are written as PNG, SVG or PDF; use a name ending in .png, .svg "
                          "or .pdf.")
    try:
        if not out.parent.exists():
            raise ConfigError(f"--out {out}: folder {out.parent} does not exist; create it or choose another path.")
        if out.is_dir():
            raise ConfigError(f"--out {out}: is a folder; give a file name ending in .png, .svg or .pdf.")
    except OSError as exc:  # a name too long for the filesystem
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror}); choose another path.") from exc
    return out


def draw(frame, tested, ahead: pd.DataFrame, curves: Curves, title: str, window: int):
    """Three panels: overview (history, step-1 backtest, forecast, the close-up's span shaded), close-up
    (recent rows, the step-1 backtest, the last origin's whole forecast, the forecast ahead), losses."""
    plt = _pyplot()
    figure, (overview, close, losses) = plt.subplots(3, 1, figsize=(12, 10),
                                                     gridspec_kw={"height_ratios": [2, 2.4, 1.3]})
    target = frame.data[frame.spec.target]
    ahead_at, ahead_values = _ahead_positions(frame, ahead), ahead[frame.spec.target].to_numpy()
    start = max(0, (tested.origins[0] if tested else len(target)) - HISTORY_POINTS)
    recent = max(0, len(target) - max(CLOSE_UP_WINDOWS * window, CLOSE_UP_MIN_ROWS))
    overview.plot(target.index[start:], target.to_numpy()[start:], color="black", linewidth=0.8, label="actual")
    close.plot(target.index[recent:], target.to_numpy()[recent:], color="black", linewidth=1.2, marker=".",
               markersize=4, label="actual")
    if tested is not None:
        _draw_backtest(overview, close, target, tested, recent)
    horizon = len(ahead)
    band = _outer_band(ahead, frame.spec.target)
    if band is not None:
        (low, high), label = band
        for axis in (overview, close):
            axis.fill_between([target.index[-1], *ahead_at], [target.iloc[-1], *low], [target.iloc[-1], *high],
                              color="tab:red", alpha=0.18, linewidth=0, label=label)
    for axis, size in ((overview, 2), (close, 4)):
        axis.plot([target.index[-1], *ahead_at], [target.iloc[-1], *ahead_values], color="tab:red",
                  linewidth=1.5, marker="o", markersize=size, label=f"forecast ahead ({horizon} step"
                  f"{'s' if horizon > 1 else ''} after {_when(target.index[-1])})", markevery=list(
                      range(1, horizon + 1)))
    overview.axvspan(target.index[recent], ahead_at.iloc[-1] if hasattr(ahead_at, "iloc") else ahead_at[-1],
                     color="tab:orange", alpha=0.12, label="close-up below")
    overview.set_title(title)
    overview.legend(loc="upper left", fontsize=8)
    scores = f"; {_scores_text(tested)}" if tested is not None else ""
    close.set_title(f"close-up: the last {len(target) - recent} rows and the forecast ahead{scores}", fontsize=10)
    close.legend(loc="upper left", fontsize=8)
    close.grid(alpha=0.3)
    for axis in (overview, close):
        _date_axis(axis, target.index)
    _draw_losses(losses, curves)
    figure.tight_layout()
    return figure


def _draw_backtest(overview, close, target: pd.Series, tested, recent: int) -> None:
    """The step-1 forecast from every origin (labelled with its own step-1 mape), and in the close-up
    the whole horizon forecast from the last origin, dashed."""
    step_one = tested.result["per_step"][0]["mape"]
    label = f"step-1 forecast from each origin (step-1 mape {_number(step_one)})"
    positions = target.index[tested.origins]
    overview.plot(positions, tested.predicted[:, 0], color="tab:blue", linewidth=0.8, label=label)
    shown = tested.origins >= recent
    close.plot(positions[shown], tested.predicted[shown, 0], color="tab:blue", linewidth=1.2, marker=".",
               markersize=4, label=label)
    if tested.levels is not None and tested.result.get("intervals"):
        outer = tested.result["intervals"][0]
        close.fill_between(positions[shown], tested.levels[shown, 0, 0], tested.levels[shown, 0, -1],
                           color="tab:blue", alpha=0.15, linewidth=0,
                           label=f"step-1 {outer['lower']:g}–{outer['upper']:g} interval "
                                 f"(coverage {_number(outer['coverage'])}, nominal {outer['nominal']:g})")
    horizon = tested.predicted.shape[1]
    if horizon > 1:
        last = int(tested.origins[-1])
        close.plot(target.index[last: last + horizon], tested.predicted[-1], color="tab:green", linewidth=1.2,
                   linestyle="--", marker="x", markersize=4,
                   label=f"{horizon}-step forecast from the last backtest origin ({_when(target.index[last])})")


def _outer_band(ahead: pd.DataFrame, target: str):
    """The outermost quantile columns of the forecast ahead and their label, or None without quantiles."""
    levels = ahead.attrs.get("quantiles") or {}
    if len(levels) < 2:
        return None
    (low_name, low), (high_name, high) = list(levels.items())[0], list(levels.items())[-1]
    return ((ahead[f"{target}_{low_name}"].to_numpy(), ahead[f"{target}_{high_name}"].to_numpy()),
            f"forecast ahead, {low:g}–{high:g} quantiles ({high - low:.0%} interval)")


def _scores_text(tested) -> str:
    """The backtest's overall scores, saying what they average."""
    result = tested.result
    horizon, naive = result["horizon"], result["baselines"]["naive"]["mape"]
    over = f"mean over the {horizon} steps" if horizon > 1 else "1 step ahead"
    return (f"backtest from {result['windows']} origins: mape {_number(result['metrics']['mape'])} ({over}), "
            f"naive {_number(naive)}")


def draw_classes(frame, tested, ahead: pd.DataFrame, curves: Curves, title: str):
    """The predicted probability of each class (of the second alone when there are two) over the actual
    label, at the row each window labels; the label ahead; the training curves."""
    plt = _pyplot()
    classes = list(frame.labels.classes)
    shown = list(range(1, len(classes))) if len(classes) == 2 else list(range(len(classes)))
    levels = np.linspace(0, 1, len(classes))  # where each actual class is drawn on the probability axis
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), gridspec_kw={"height_ratios": [3, 1.3]})
    if tested is not None:
        positions = frame.data.index[tested.origins + tested.result["horizon"] - 1]  # the labelled rows
        top.scatter(positions, levels[tested.actual], s=6, color="black", label="actual label")
        for code in shown:
            top.plot(positions, tested.predicted[:, code], linewidth=1, label=f"P({classes[code]})")
        top.set_title(f"{title}: accuracy {tested.result['metrics']['accuracy']:.3f}")
    else:
        top.set_title(title)
    ahead_at = _ahead_positions(frame, ahead)
    top.plot(ahead_at, [ahead[f"p_{classes[code]}"].iloc[0] for code in shown[:1]], marker="o", color="tab:red",
             linestyle="none", label=f"ahead: P({classes[shown[0]]})")
    top.set_ylabel("predicted probability")
    side = top.twinx()
    side.set_ylim(top.get_ylim())
    side.set_yticks(levels, [str(name) for name in classes])
    side.set_ylabel("actual label")
    top.legend(loc="center left")
    _draw_losses(bottom, curves)
    figure.tight_layout()
    return figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ahead_positions(frame, ahead: pd.DataFrame):
    if ahead["timestamp"].astype(str).str.len().gt(0).all():
        return pd.to_datetime(ahead["timestamp"])
    return len(frame.data) - 1 + ahead["step"].to_numpy()  # row positions, counting on from the last


def _date_axis(axis, index) -> None:
    """Concise date ticks (2015, Feb, Mar...) instead of long overlapping labels."""
    if isinstance(index, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(maxticks=10)
        axis.xaxis.set_major_locator(locator)
        axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        axis.set_xlabel("row")


def _draw_losses(axis, curves: Curves) -> None:
    """Train and validation loss per epoch: whole-number epochs, the best epoch marked, plain tick labels
    (a log axis only when the losses span more than LOG_SPAN times)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    history = curves.history
    epochs = [int(row["epoch"]) for row in history]
    train = [float(row["train_loss"]) for row in history]
    axis.plot(epochs, train, marker=".", label="train loss")
    val = [float(row["val_loss"]) for row in history if row.get("val_loss") not in ("", None)]
    if len(val) == len(epochs):
        axis.plot(epochs, val, marker=".", label="validation loss")
    chosen = val if len(val) == len(epochs) else train
    if curves.best_epoch in epochs:
        best = chosen[epochs.index(curves.best_epoch)]
        axis.axvline(curves.best_epoch, color="gray", linestyle=":", linewidth=1)
        axis.plot([curves.best_epoch], [best], marker="*", markersize=12, color="tab:red", linestyle="none",
                  label=f"best epoch {curves.best_epoch} (weights kept)")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    values = [v for v in train + val if v > 0]
    if values and max(values) / min(values) > LOG_SPAN:
        axis.set_yscale("log")
        axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_minor_formatter(NullFormatter())
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axis.set_xlabel("epoch")
    axis.set_ylabel(curves.loss)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=8)


def _when(stamp) -> str:
    if isinstance(stamp, pd.Timestamp):
        return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat(sep=" ")
    return f"row {int(stamp)}"  # as the x axis counts rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def save_figure(figure, out: Path) -> None:
    """Save as the name says (PNG, SVG, PDF) through a temporary file and a rename
    (store.atomic.write_file), so a failed plot never leaves half a file."""
    import matplotlib.pyplot as plt

    try:
        write_file(out, lambda temporary: figure.savefig(temporary, dpi=110, format=FORMATS[out.suffix.lower()]))
    finally:
        plt.close(figure)
