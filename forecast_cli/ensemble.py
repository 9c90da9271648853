"""`--ensemble N`: members 1 .. N-1 trained beside the first model (seeds seed+1 .. seed+N-1), their
forecasts averaged with its own, their weights saved under a prefix each, and the members' spread.

Member 0 is the model `fit` trains anyway (its checkpoint, history and best epoch are the ones
recorded); the others are trained the same way on the same windows, only the seed differs. The
average is taken on the network's outputs (z-scores, so in original units too), by forward.mean_forward
in both engines. With N = 1 nothing here runs and the model directory is as without the option.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from forecast_cli.errors import Interrupted
from forecast_cli.metrics import score
from forecast_cli.nn.spec import member_prefix
from forecast_cli.notes import Info

SPREAD_METRICS = ("mase", "rmse", "mae")  # the test scores whose spread across members the report gives


def train_members(prepared, configs, on_epoch_end: Callable | None, should_stop: Callable[[], bool] | None,
                  warn: Callable[[str], None]) -> list:
    """The ensemble's members after the first, trained (each holds its best epoch's weights); [] for N = 1.
    A stop request ends the fit without a checkpoint (only the first member's training has one)."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, train_model

    members, train = [], configs.train
    for index in range(1, train.ensemble):
        seed = train.seed + index
        warn(Info(f"training ensemble member {index + 1} of {train.ensemble} (seed {seed})"))
        seed_everything(seed)
        model = Forecaster(prepared.spec)
        trained = train_model(model, prepared.data, replace(train, seed=seed), on_epoch_end, should_stop, None)
        if trained.interrupted:
            raise Interrupted(f"interrupted: stopped in training ensemble member {index + 1} of {train.ensemble} "
                              "(only the first member's training is checkpointed); nothing was saved.")
        members.append((model, trained))
    return members


def member_weights(members: list) -> dict:
    """Members 1 .. N-1's best weights as CPU tensors, each under its prefix (nn/spec.member_prefix)."""
    return {member_prefix(index) + name: tensor.detach().cpu().clone()
            for index, (model, _) in enumerate(members, start=1) for name, tensor in model.state_dict().items()}


def spread(member_forecasts: list[np.ndarray], actual: np.ndarray, mase_scale: float, seeds: list[int],
           best_epochs: list[int], ensemble_metrics: dict) -> dict:
    """The report's `ensemble` entry: each member's test scores, their min / max / standard deviation,
    and the ensemble's own (the mean forecast's), per metric in SPREAD_METRICS."""
    scores = [score(forecast, actual, mase_scale) for forecast in member_forecasts]
    entry = {"members": len(scores), "seeds": seeds, "best_epochs": best_epochs}
    for metric in SPREAD_METRICS:
        values = [member[metric] for member in scores]
        if any(value is None for value in values):
            continue
        entry[metric] = {"members": values, "min": min(values), "max": max(values), "std": float(np.std(values)),
                         "ensemble": ensemble_metrics.get(metric)}
    return entry


def spread_line(entry: dict) -> str:
    """One line for the fit summary: the members' test MASE range beside the ensemble's."""
    seeds = entry["seeds"]
    named = f"ensemble of {entry['members']} (seeds {seeds[0]}-{seeds[-1]})"
    metric = "mase" if "mase" in entry else "rmse" if "rmse" in entry else None
    if metric is None:
        return f"{named}: the members' test scores are undefined"
    values = entry[metric]
    ensemble = "-" if values["ensemble"] is None else f"{values['ensemble']:.4g}"
    return (f"{named}: members' test {metric} {values['min']:.4g} to {values['max']:.4g} "
            f"(std {values['std']:.2g}); the ensemble's {ensemble}")


def spread_markdown(entry: dict) -> str:
    """The report.md section: one row per member and the ensemble's."""
    metrics = [metric for metric in SPREAD_METRICS if metric in entry]
    lines = ["", f"## Ensemble of {entry['members']}", "",
             "| member | seed | best epoch | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 3) + "|"]
    for index, (seed, epoch) in enumerate(zip(entry["seeds"], entry["best_epochs"])):
        lines.append(f"| {index} | {seed} | {epoch} | " + " | ".join(f"{entry[m]['members'][index]:.4g}" for m in metrics)
                     + " |")
    lines.append("| std | | | " + " | ".join(f"{entry[m]['std']:.2g}" for m in metrics) + " |")
    lines.append("| ensemble | | | " + " | ".join("-" if entry[m]["ensemble"] is None else f"{entry[m]['ensemble']:.4g}"
                                                 for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def describe(predictor, frame, tested, forwards: list, mase_scale: float, seeds: list[int],
             best_epochs: list[int]) -> dict:
    """The `ensemble` entry for the test part's backtest `tested` of the averaged model, from each
    member's own forecasts on the same origins (`forwards`: one forward function per member)."""
    forecasts = [predictor.forecast(frame, tested.origins, forward) for forward in forwards]
    return spread(forecasts, tested.actual, mase_scale, seeds, best_epochs, tested.result["metrics"])
