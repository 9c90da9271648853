"""`plot`: results -> PNG: history, backtest (actual against one-step-ahead predictions), the forecast ahead,
and the training curves; for a classifier, the predicted probability over the actual label.
The only module that imports matplotlib (Agg backend, no display needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.errors import ConfigError
from forecast_cli.evaluate import evaluate
from forecast_cli.loaded import LoadedModel, Source
from forecast_cli.store.atomic import write_file

HISTORY_POINTS = 400  # rows of history drawn before the backtest range


def plot(model: LoadedModel, data: Source | None, out: Path, warn: Callable[[str], None]) -> Path:
    """Backtest and forecast `model` on `data` (default: the training data), then draw both to `out`."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {out}: plots are written as PNG; use a name ending in .png.")
    try:
        if not out.parent.exists():
            raise ConfigError(f"--out {out}: folder {out.parent} does not exist; create it or choose another path.")
        if out.is_dir():
            raise ConfigError(f"--out {out}: is a folder; give a file name ending in .png.")
    except OSError as exc:  # a name too long for the filesystem
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror}); choose another path.") from exc
    evaluation = evaluate(model, data, warn, require_origins=False)
    frame = evaluation.frame
    ahead = model.predictor.ahead(frame, model.manifest.frequency)
    title = f"{frame.labels.name if frame.labels else frame.spec.target} — {evaluation.table.name}"
    drawing = draw_classes if model.manifest.classification else draw
    save_png(drawing(frame, evaluation.backtest, ahead, model.training_history(), title), out)
    return out


def draw(frame, tested, ahead: pd.DataFrame, history: list[dict], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), gridspec_kw={"height_ratios": [3, 1.3]})
    target = frame.data[frame.spec.target]
    start = max(0, (tested.origins[0] if tested else len(target)) - HISTORY_POINTS)
    top.plot(target.index[start:], target.to_numpy()[start:], color="black", linewidth=1, label="actual")
    if tested is not None:
        top.plot(target.index[tested.origins], tested.predicted[:, 0], color="tab:blue", linewidth=1,
                 label=f"predicted (1 step ahead, mape {tested.result['metrics']['mape'] or 0:.4f})")
    top.plot(_ahead_positions(frame, ahead), ahead.iloc[:, -1].to_numpy(), color="tab:red", marker="o",
             markersize=3, label=f"forecast ({len(ahead)} steps)")
    top.set_title(title)
    top.legend(loc="upper left")
    _draw_losses(bottom, history)
    figure.tight_layout()
    return figure


def draw_classes(frame, tested, ahead: pd.DataFrame, history: list[dict], title: str):
    """The predicted probability of each class (of the second alone when there are two) over the actual
    label, at the row each window labels; the label ahead; the training curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    _draw_losses(bottom, history, "cross-entropy")
    figure.tight_layout()
    return figure


def _ahead_positions(frame, ahead: pd.DataFrame):
    if ahead["timestamp"].astype(str).str.len().gt(0).all():
        return pd.to_datetime(ahead["timestamp"])
    return len(frame.data) - 1 + ahead["step"].to_numpy()  # row positions, counting on from the last


def _draw_losses(axis, history: list[dict], loss: str = "MSE (scaled)") -> None:
    epochs = [int(row["epoch"]) for row in history]
    axis.plot(epochs, [float(row["train_loss"]) for row in history], label="train loss")
    val = [float(row["val_loss"]) for row in history if row.get("val_loss") not in ("", None)]
    if len(val) == len(epochs):
        axis.plot(epochs, val, label="validation loss")
    axis.set_xlabel("epoch")
    axis.set_ylabel(loss)
    axis.set_yscale("log")
    axis.legend(loc="upper right")


def save_png(figure, out: Path) -> None:
    """Save through a temporary file and a rename (store.atomic.write_file), so a failed plot never leaves half a PNG."""
    import matplotlib.pyplot as plt

    try:
        write_file(out, lambda temporary: figure.savefig(temporary, dpi=110))
    finally:
        plt.close(figure)
