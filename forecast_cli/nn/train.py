"""Tensors -> fitted weights: Adam, MSE on z-scores (the pinball loss with --quantiles, cross-entropy for a
classifier), gradient clipping, early stopping.

Reports through an `on_epoch_end` callback and never prints; stops between batches when asked and
resumes from a TrainProgress exactly. The whole series lives on the device once; batches are
gathered from a `torch.unfold` view, so no window is materialised twice. Two ways to make a batch:
windows (one encoder pass per origin, `WindowSource`) or forking sequences (one pass per chunk of
rows, every step after its burn-in an origin, `ChunkSource`); both answer per-origin losses.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from forecast_cli.config import EPOCH_SIZE, PLATEAU_EPOCHS, TrainConfig, auto_chunk, learning_rate
from forecast_cli.errors import ConfigError
from forecast_cli.nn import distributed
from forecast_cli.nn.optim import adam
from forecast_cli.nn.training_data import TrainingData  # re-exported: train_model's input

EVAL_BATCH = 4096  # windows per forward pass when only scoring
# Windowed training takes fewer than --batch-size origins per step where that would leave under
# MIN_STEPS steps an epoch (a short series otherwise gets one Adam step per epoch), never under MIN_BATCH.
MIN_STEPS = 8
MIN_BATCH = 16


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float | None
    seconds: float


@dataclass
class TrainProgress:
    """Where a run stands between two batches: with the model and optimizer states, enough to go on
    exactly as if never stopped (checkpoint.py stores it; nothing here is pickled)."""

    epoch: int = 1  # the epoch in progress, 1-based
    batches_done: int = 0  # batches of that epoch already applied
    loss_sum: float = 0.0  # sum of loss * batch size over those batches
    samples: int = 0  # windows in those batches
    best: float = math.inf  # lowest validation (or training) loss so far
    stale: int = 0  # epochs since it last improved, for --patience
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    history: list[EpochStats] = field(default_factory=list)
    order_rng: torch.Tensor | None = None  # batch-order Generator state at the start of `epoch` (uint8)
    torch_rng: torch.Tensor | None = None  # global torch RNG (dropout) after the last batch (uint8)
    host_rng: dict = field(default_factory=dict)  # Python's and NumPy's RNG states, JSON-ready
    model_state: dict[str, torch.Tensor] = field(default_factory=dict)  # filled when interrupted
    optimizer_state: dict = field(default_factory=dict)
    average_state: dict[str, torch.Tensor] = field(default_factory=dict)  # --ema's average, when interrupted


@dataclass
class TrainResult:
    state_dict: dict[str, torch.Tensor]  # best epoch's weights, on the CPU
    best_epoch: int
    history: list[EpochStats] = field(default_factory=list)
    device: str = "cpu"
    stopped_early: bool = False  # --patience ended training before --epochs
    interrupted: TrainProgress | None = None  # set when should_stop ended training: what to checkpoint


def seed_everything(seed: int) -> None:
    """Fix Python, NumPy and torch random sources (CUDA's too, when present)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA, then Apple MPS, else CPU; an explicit device that is absent is an error."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ConfigError(f"--device {name} was asked for but is not available here; use --device auto or cpu.")
    return torch.device(name)


SMALL_MODEL_PARAMETERS = 200_000  # below this, extra CPU threads cost more in hand-offs than they save


def limit_cpu_threads(model: nn.Module) -> None:
    """Run small models on one CPU thread unless the user set OMP_NUM_THREADS.

    A recurrent step of a small model is little work to split: on a 2-core machine two threads
    were 1.1-1.5x faster when idle but 10-30x slower when another process kept a core busy, as
    cron hosts and CI runners often do (bench/train_epoch.py --threads 1 2).
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return
    if sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMETERS:
        torch.set_num_threads(1)


class WindowSource:
    """Batches of (inputs, targets) gathered on the device from views of the whole series; the
    items shuffled into batches are the forecast origins themselves."""

    def __init__(self, data: TrainingData, origins: np.ndarray, device: torch.device) -> None:
        values = torch.from_numpy(np.ascontiguousarray(data.values)).to(device)
        target = torch.from_numpy(np.ascontiguousarray(data.target)).to(device)
        self.inputs = values.unfold(0, data.window, 1)  # (T-L+1, F, L) view
        self.targets = target.unfold(0, data.horizon, 1)  # (T-H+1, H) view
        self.window = data.window
        self.device = device
        self.classify = data.classify
        self.quantiles = data.quantiles
        self.items = torch.from_numpy(origins).to(device)

    def per_batch(self, batch_size: int) -> int:
        """Items per training step: --batch-size origins."""
        return batch_size

    def batch(self, origins: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.inputs[origins - self.window].transpose(1, 2)  # (B, F, L) -> (B, L, F)
        return x, self.targets[origins]  # (B, H)

    def losses(self, model: nn.Module, origins: torch.Tensor) -> torch.Tensor:
        """(B,) one loss per origin."""
        x, y = self.batch(origins)
        return sample_losses(model(x), y, self.classify, self.quantiles)


class ChunkSource:
    """Forking sequences: chunks of C consecutive rows, each read by the encoder once from a zero state.

    The first W (--window) rows of a chunk are its burn-in and give no loss; every later step is a
    forecast origin (P = C - W + 1 per chunk) trained against the next H target values. Chunks
    start P rows apart, so they overlap by W - 1 rows and each origin is covered once; the last chunk
    ends at the last origin and masks the origins its predecessor already covered. The items
    shuffled into batches are chunk numbers. A chunk's burn-in may lie before the origins' part
    (validation takes it from the training rows): only targets must stay inside it.
    """

    def __init__(self, data: TrainingData, origins: np.ndarray, chunk: int, device: torch.device) -> None:
        window, first, last = data.window, int(origins[0]), int(origins[-1])
        self.rows = min(chunk, last - first + window)  # C: at least one whole chunk fits
        self.burn_in = window
        self.origins_per_chunk = self.rows - window + 1  # P
        starts = list(range(first - window, last - self.rows + 1, self.origins_per_chunk))
        covered = starts[-1] + self.rows  # the last origin the regular chunks reach
        mask = torch.ones(len(starts), self.origins_per_chunk, dtype=torch.bool)
        if covered < last:
            starts.append(last - self.rows)
            tail = torch.arange(self.origins_per_chunk) + last - self.rows + window > covered  # (P,)
            mask = torch.cat([mask, tail[None]])
        values = torch.from_numpy(np.ascontiguousarray(data.values)).to(device)
        target = torch.from_numpy(np.ascontiguousarray(data.target)).to(device)
        self.inputs = values.unfold(0, self.rows, 1)  # (T-C+1, F, C) view
        self.targets = target.unfold(0, data.horizon, 1)  # (T-H+1, H) view
        self.starts = torch.tensor(starts, device=device)  # (K,)
        self.mask = mask.to(device)  # (K, P)
        self.steps = torch.arange(self.origins_per_chunk, device=device) + window  # (P,) origin - chunk start
        self.items = torch.arange(len(starts), device=device)
        self.quantiles = data.quantiles

    def per_batch(self, batch_size: int) -> int:
        """Chunks per training step: about --batch-size origins, at least one chunk."""
        return max(1, round(batch_size / self.origins_per_chunk))

    def losses(self, model: nn.Module, chunks: torch.Tensor) -> torch.Tensor:
        """(n,) one loss per covered origin of the chunks: MSE (or pinball) over the horizon on z-scores."""
        starts = self.starts[chunks]  # (B,)
        x = self.inputs[starts].transpose(1, 2)  # (B, F, C) -> (B, C, F)
        y = self.targets[starts[:, None] + self.steps]  # (B, P) origins -> (B, P, H)
        forecast = model.forward_chunk(x, self.burn_in)  # (B, P, H)
        return forecast_losses(forecast, y, self.quantiles)[self.mask[chunks]]  # (B, P) -> (n,)


def make_source(data: TrainingData, origins: np.ndarray, config: TrainConfig, device: torch.device):
    """The batch maker of the chosen --training mode over `origins` (consecutive), or None if there are none."""
    if len(origins) == 0:
        return None
    if config.training == "forking":
        return ChunkSource(data, origins, config.chunk or auto_chunk(data.window), device)
    return WindowSource(data, origins, device)


def train_model(model: nn.Module, data: TrainingData, config: TrainConfig,
                on_epoch_end: Callable[[EpochStats], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                resume: TrainProgress | None = None) -> TrainResult:
    """Fit `model` in place and return the best epoch's weights (lowest validation loss).

    Without validation origins the training loss decides. `should_stop` is polled after every
    batch: when it says so, training ends there and the result's `interrupted` holds the progress
    to checkpoint. `resume` continues such a progress; on the CPU with the same seed the weights
    then match an uninterrupted run exactly.
    """
    seed_everything(config.seed)
    device = distributed.local_device(resolve_device(config.device))
    if device.type == "cpu":
        limit_cpu_threads(model)
    model.to(device)
    trained = distributed.wrap(model)  # DDP under torchrun: the same step on every rank
    source = make_source(data, data.train_origins, config, device)
    validation = make_source(data, validation_origins(data.val_origins, config), config, device)
    optimizer = adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    progress = resume or TrainProgress(order_rng=generator.get_state())
    if resume:
        _restore(model, optimizer, generator, resume)
    result = TrainResult(state_dict=progress.best_state, best_epoch=progress.best_epoch,
                         history=progress.history, device=str(device))
    averaged = weight_average(model, config.ema, progress.average_state)
    while progress.epoch <= config.epochs:
        started = time.perf_counter()
        if config.lr_schedule == "cosine":
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, progress.epoch)
        if not _train_epoch(trained, source, optimizer, config, generator, progress, should_stop, averaged):
            result.interrupted = _snapshot(model, optimizer, progress, averaged)
            return result
        loss_sum, samples = distributed.summed(progress.loss_sum, progress.samples)  # over every rank
        train_loss = loss_sum / max(samples, 1)
        judged = averaged.module if averaged is not None else model
        val_loss = evaluate_loss(judged, validation) if validation is not None else None
        stats = EpochStats(progress.epoch, train_loss, val_loss, time.perf_counter() - started)
        _end_epoch(judged, progress, stats, config, generator)
        on_plateau(optimizer, config, progress)
        result.state_dict, result.best_epoch = progress.best_state, progress.best_epoch
        if on_epoch_end:
            on_epoch_end(stats)
        if progress.stale >= config.patience:
            result.stopped_early = progress.epoch <= config.epochs
            break
        if should_stop and should_stop() and progress.epoch <= config.epochs:
            result.interrupted = _snapshot(model, optimizer, progress, averaged)
            return result
    model.load_state_dict(result.state_dict)
    return result


def weight_average(model: nn.Module, decay: float, state: dict[str, torch.Tensor]) -> nn.Module | None:
    """--ema: torch's AveragedModel keeping an exponential moving average of `model`'s weights (its
    first update copies them), or None with decay 0; `state` continues a checkpointed one."""
    if decay <= 0:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    if state:
        averaged.load_state_dict(state)
    return averaged


def on_plateau(optimizer: torch.optim.Optimizer, config: TrainConfig, progress: TrainProgress) -> None:
    """--lr-schedule plateau: halve the learning rate after every PLATEAU_EPOCHS epochs without a better
    validation loss (kept in the optimizer's state, so a resumed run goes on from it)."""
    if config.lr_schedule == "plateau" and progress.stale and progress.stale % PLATEAU_EPOCHS == 0:
        for group in optimizer.param_groups:
            group["lr"] /= 2


def _end_epoch(model: nn.Module, progress: TrainProgress, stats: EpochStats, config: TrainConfig,
               generator: torch.Generator) -> None:
    """Record the epoch, keep the best weights, count stale epochs, and move `progress` to the next."""
    score = stats.val_loss if stats.val_loss is not None else stats.train_loss
    if not math.isfinite(score):
        raise ConfigError(f"training diverged: the loss became {score} in epoch {stats.epoch}; lower --lr "
                          f"(now {config.lr}) or check the data for extreme values.")
    progress.history.append(stats)
    if score < progress.best:
        progress.best, progress.stale, progress.best_epoch = score, 0, stats.epoch
        progress.best_state = _cpu_state(model)
    else:
        progress.stale += 1
    progress.epoch += 1
    progress.batches_done, progress.loss_sum, progress.samples = 0, 0.0, 0
    progress.order_rng = generator.get_state()


def _train_epoch(model: nn.Module, source, optimizer: torch.optim.Optimizer,
                 config: TrainConfig, generator: torch.Generator, progress: TrainProgress,
                 should_stop: Callable[[], bool] | None, averaged: nn.Module | None = None) -> bool:
    """Apply the epoch's remaining batches, each step also moving `averaged` (--ema) when there is one;
    False when `should_stop` cut it short (progress says where)."""
    model.train()
    items = source.items
    order = items[torch.randperm(len(items), generator=generator).to(items.device)]
    order = order[: epoch_items(source, config)]  # a fresh random draw each epoch when there are more
    size = source.per_batch(step_size(config, len(order)))
    starts = range(0, len(order), size)
    _, world = distributed.rank_and_world()
    for start in starts[progress.batches_done:]:
        batch = order[start: start + size]
        if len(batch) < world:  # too few items to give every rank one: each rank skips it alike
            progress.batches_done += 1
            continue
        losses = source.losses(model, distributed.share(batch))  # (n,) one per origin of this rank's share
        optimizer.zero_grad(set_to_none=True)
        # Under DDP (which averages gradients over ranks) each rank's sum over its share, times the world
        # size, over the whole batch: the average is the batch mean even when the shares differ by one.
        loss = losses.mean() if world == 1 else losses.sum() * (world / len(batch))
        loss.backward()
        if config.clip_grad > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        optimizer.step()
        if averaged is not None:
            averaged.update_parameters(model)
        progress.loss_sum += float(loss.detach()) * len(losses) if world == 1 else float(losses.detach().sum())
        progress.samples += len(losses)
        progress.batches_done += 1
        if should_stop and should_stop() and progress.batches_done < len(starts):
            return False
    return True


VALIDATION_SIZE = 50_000  # validation origins scored per epoch at most: the same evenly spaced ones each epoch


def validation_origins(origins: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The validation origins scored after every epoch: all of them, or (windows training, many series)
    VALIDATION_SIZE evenly spaced ones, the same every epoch so that epochs compare."""
    if config.training == "forking" or len(origins) <= VALIDATION_SIZE:
        return origins
    return origins[np.linspace(0, len(origins) - 1, VALIDATION_SIZE).round().astype(np.int64)]


def epoch_items(source, config: TrainConfig) -> int:
    """Items (origins, or forking chunks) one epoch draws: --epoch-size origins, default EPOCH_SIZE."""
    origins = config.epoch_size or EPOCH_SIZE
    per_item = getattr(source, "origins_per_chunk", 1)
    return max(1, math.ceil(origins / per_item))


def step_size(config: TrainConfig, items: int) -> int:
    """Origins per windowed training step: --batch-size, or fewer so an epoch has MIN_STEPS steps."""
    if config.training != "windows":
        return config.batch_size
    return min(config.batch_size, max(MIN_BATCH, math.ceil(items / MIN_STEPS)))


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer, progress: TrainProgress,
              averaged: nn.Module | None = None) -> TrainProgress:
    """Copy the live states into `progress` (on the CPU) so it can be checkpointed."""
    progress.model_state = _cpu_state(model)
    if averaged is not None:
        progress.average_state = _cpu_state(averaged)
    progress.optimizer_state = optimizer.state_dict()
    progress.torch_rng = torch.get_rng_state()
    numpy_state = np.random.get_state()
    progress.host_rng = {"python": _to_lists(random.getstate()),
                         "numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]]}
    return progress


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of `module`'s state on the CPU, detached from the live tensors."""
    return {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}


def _to_lists(value):
    """Tuples -> lists, recursively, so an RNG state survives JSON."""
    return [_to_lists(item) for item in value] if isinstance(value, (tuple, list)) else value


def _to_tuples(value):
    return tuple(_to_tuples(item) for item in value) if isinstance(value, list) else value


def _restore(model: nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator,
             progress: TrainProgress) -> None:
    """Put a checkpointed run's states back before its next batch."""
    model.load_state_dict(progress.model_state)
    optimizer.load_state_dict(progress.optimizer_state)
    if progress.torch_rng is not None:
        torch.set_rng_state(progress.torch_rng)
    if progress.host_rng:
        random.setstate(_to_tuples(progress.host_rng["python"]))
        name, keys, *rest = progress.host_rng["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    generator.set_state(progress.order_rng)  # so the interrupted epoch's shuffle comes out again


START_ORIGINS = 10_000  # training origins, evenly spaced, that place the quantile levels before training
START_VALUES = 4_000_000  # at most this many input (or output) values in that one forward pass


@torch.no_grad()
def start_levels(model: nn.Module, data: TrainingData) -> None:
    """Start each quantile level where the untrained model's errors on the training part put it: its
    forecasts plus, per step and level q, the q-quantile of (target - forecast). Under window
    normalization the zero head forecasts the last value, so each level starts at the naive forecast
    plus the naive errors' quantile, and training refines a band that is already roughly the right width
    instead of spreading it from nothing (which took the median 150 epochs instead of 60 to converge
    on a short monthly series, bench/intervals.py). Direct head (and linear cell) only; the seq2seq
    decoder, fed its own median, keeps its zero start."""
    spec = model.spec
    if not data.quantiles or spec.decoder == "seq2seq" or spec.task != "forecast" or len(data.train_origins) == 0:
        return
    origins = data.train_origins
    count = min(len(origins), START_ORIGINS, max(1, START_VALUES // (data.window * data.values.shape[1])),
                max(1, START_VALUES // (data.horizon * len(data.quantiles))))
    chosen = origins[np.linspace(0, len(origins) - 1, count).round().astype(int)]
    source = WindowSource(data, chosen, torch.device("cpu"))
    model.eval()
    x, y = source.batch(source.items)  # (N, L, F), (N, H)
    errors = y.unsqueeze(-1) - model(x).reshape(len(chosen), data.horizon, len(data.quantiles))  # (N, H, Q)
    offsets = torch.stack([torch.quantile(errors[:, :, index], level, dim=0)
                           for index, level in enumerate(data.quantiles)], dim=1)  # (H, Q)
    model.shift_levels(offsets.reshape(-1))


@torch.no_grad()
def evaluate_loss(model: nn.Module, source) -> float:
    """Mean loss per origin over the source's items (MSE, or cross-entropy), in evaluation mode (no dropout)."""
    model.eval()
    total, count = 0.0, 0
    size = source.per_batch(EVAL_BATCH)
    for start in range(0, len(source.items), size):
        losses = source.losses(model, source.items[start: start + size])
        total, count = total + float(losses.sum()), count + len(losses)
    return total / max(count, 1)


def sample_losses(output: torch.Tensor, target: torch.Tensor, classify: bool,
                  quantiles: tuple[float, ...] = ()) -> torch.Tensor:
    """One loss per window: MSE (or with quantiles the pinball loss) over the horizon on z-scores, or for
    a classifier the cross-entropy of its (B, C) logits against the class code of the last target row
    (the label `horizon` rows ahead)."""
    if classify:
        return nn.functional.cross_entropy(output, target[:, -1].long(), reduction="none")  # (B,)
    return forecast_losses(output, target, quantiles)


def forecast_losses(forecast: torch.Tensor, target: torch.Tensor, quantiles: tuple[float, ...] = ()) -> torch.Tensor:
    """(..., H*Q) forecasts against (..., H) targets -> (...,): the mean squared error over the steps, or
    with Q quantile levels the pinball loss averaged over steps and levels:
    max(q * (y - f), (q - 1) * (y - f)) for level q and forecast f."""
    if not quantiles:
        return ((forecast - target) ** 2).mean(dim=-1)
    levels = torch.tensor(quantiles, dtype=forecast.dtype, device=forecast.device)  # (Q,)
    error = target.unsqueeze(-1) - forecast.reshape(*target.shape, len(quantiles))  # (..., H, Q)
    return torch.maximum(levels * error, (levels - 1) * error).mean(dim=(-2, -1))
