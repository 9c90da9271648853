"""`fit --id-col COL --per-series`: one small model per series instead of one global model.

Each series is trained on its own windows (its rows of the concatenated training arrays, its own
validation part and early stopping), independently, so the series run through joblib (`--n-jobs`,
`--backend`). All the models share one shape (the options' ModelSpec); their tensors are saved in
model.safetensors under `series.<position>.` (the position in the series file's ids), and each
series is forecast and scored by its own model. Imports no verb; torch only where training starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecast_cli.nn.spec import SERIES_PREFIX as PREFIX
from forecast_cli.nn.spec import ModelSpec
from forecast_cli.nn.spec import series_prefix as prefix


def split_weights(weights: dict, count: int) -> list[dict]:
    """model.safetensors' per-series tensors -> one state dict per series position."""
    models: list[dict] = [{} for _ in range(count)]
    for name, tensor in weights.items():
        position, _, own = name[len(PREFIX):].partition(".")
        models[int(position)][own] = tensor
    return models


@dataclass
class PerSeriesTraining:
    """What `fit` records of the per-series training: the weights of every model and a summary history."""

    state_dict: dict  # `series.<i>.<name>` -> CPU tensor
    history: list  # per epoch: the mean losses over the series still training then
    best_epoch: int  # the median of the series' best epochs
    device: str = "cpu"
    stopped_early: bool = True
    interrupted: object = None


def train_per_series(prepared, configs, n_jobs: int = 1, backend: str = "loky") -> PerSeriesTraining:
    """Train one model per kept series (prepared.many), `n_jobs` at once on joblib's `backend`."""
    from forecast_cli.many import _run

    many = prepared.many
    tasks = []
    for position, split in enumerate(many.splits):
        start, stop = int(many.offsets[position]), int(many.offsets[position + 1])
        inside = lambda origins: origins[(origins >= start) & (origins < stop)] - start  # noqa: E731
        tasks.append((many.values[start:stop], inside(prepared.data.train_origins), inside(prepared.data.val_origins)))
    size = max(1, -(-len(tasks) // (4 * max(n_jobs, 1))))  # about four tasks per worker
    blocks = [tasks[i: i + size] for i in range(0, len(tasks), size)]
    shared = (_initial_state(prepared.spec, configs.train.seed), prepared.spec, prepared.data.window,
              prepared.data.horizon, configs.train)
    results = [r for block in _run(_train_block, blocks, shared, n_jobs, backend) for r in block]
    weights = {prefix(position) + name: tensor for position, (state, _, _) in enumerate(results)
               for name, tensor in state.items()}
    return PerSeriesTraining(weights, _mean_history([history for _, history, _ in results]),
                             int(np.median([best for _, _, best in results])))


def _initial_state(spec: ModelSpec, seed: int) -> dict:
    """The weights every series' model starts from (--seed's), made once here: the threading backend's
    workers share one global random state, so they must not draw their own."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything

    seed_everything(seed)
    return Forecaster(spec).state_dict()


def _train_block(block, initial: dict, spec: ModelSpec, window: int, horizon: int, train) -> list:
    """Train the series of one joblib task: (state dict, history rows, best epoch) for each."""
    import torch

    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import TrainingData, train_model

    torch.set_num_threads(1)  # many small models: one thread each, the workers are the parallelism
    out = []
    for values, train_origins, val_origins in block:
        data = TrainingData(values, values[:, 0].copy(), train_origins, val_origins, window, horizon)
        model = Forecaster(spec)
        model.load_state_dict(initial)
        result = train_model(model, data, replace(train, device="cpu"), None, None, None)
        out.append(({k: v.detach().cpu().clone() for k, v in result.state_dict.items()},
                    [vars(stats) for stats in result.history], result.best_epoch))
    return out


def _mean_history(histories: list[list[dict]]) -> list:
    """Per epoch, the mean of each loss over the series whose training reached that epoch."""
    from forecast_cli.nn.train import EpochStats

    rows = []
    for epoch in range(1, max(len(h) for h in histories) + 1):
        reached = [h[epoch - 1] for h in histories if len(h) >= epoch]
        val = [r["val_loss"] for r in reached if r["val_loss"] is not None]
        rows.append(EpochStats(epoch, float(np.mean([r["train_loss"] for r in reached])),
                               float(np.mean(val)) if val else None, float(sum(r["seconds"] for r in reached))))
    return rows
