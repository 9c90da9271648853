"""Tensors -> fitted weights: Adam, MSE on z-scores (cross-entropy for a classifier), gradient clipping, early stopping.

Reports through an `on_epoch_end` callback and never prints. The whole series lives on the
device once; batches are gathered from a `torch.unfold` view, so no window is materialised twice.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from forecast_cli.config import TrainConfig
from forecast_cli.errors import ConfigError

EVAL_BATCH = 4096  # windows per forward pass when only scoring


@dataclass
class TrainingData:
    """The scaled series and which origins train and validate; shapes (T, F) and (T,)."""

    values: np.ndarray  # (T, F) float32 z-scores
    target: np.ndarray  # (T,) float32 z-scores of the target
    train_origins: np.ndarray  # first forecast row of each training window
    val_origins: np.ndarray
    window: int
    horizon: int
    classify: bool = False  # target holds class codes: cross-entropy on the label `horizon` rows ahead


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float | None
    seconds: float


@dataclass
class TrainResult:
    state_dict: dict[str, torch.Tensor]  # best epoch's weights, on the CPU
    best_epoch: int
    history: list[EpochStats] = field(default_factory=list)
    device: str = "cpu"
    stopped_early: bool = False


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

    A recurrent step of a small model is too little work to split: on a 2-core machine two
    threads were no faster when idle and ten times slower when another process was busy
    (bench/train_epoch.py --threads).
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return
    if sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMETERS:
        torch.set_num_threads(1)


class WindowSource:
    """Batches of (inputs, targets) gathered on the device from views of the whole series."""

    def __init__(self, data: TrainingData, device: torch.device) -> None:
        values = torch.from_numpy(np.ascontiguousarray(data.values)).to(device)
        target = torch.from_numpy(np.ascontiguousarray(data.target)).to(device)
        self.inputs = values.unfold(0, data.window, 1)  # (T-L+1, F, L) view
        self.targets = target.unfold(0, data.horizon, 1)  # (T-H+1, H) view
        self.window = data.window
        self.device = device
        self.classify = data.classify

    def batch(self, origins: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.inputs[origins - self.window].transpose(1, 2)  # (B, F, L) -> (B, L, F)
        return x, self.targets[origins]  # (B, H)


def train_model(model: nn.Module, data: TrainingData, config: TrainConfig,
                on_epoch_end: Callable[[EpochStats], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Fit `model` in place and return the best epoch's weights (lowest validation loss).

    Without validation origins the training loss decides. `should_stop` is polled after every
    batch so a signal can end training cleanly with the best weights so far.
    """
    seed_everything(config.seed)
    device = resolve_device(config.device)
    if device.type == "cpu":
        limit_cpu_threads(model)
    model.to(device)
    source = WindowSource(data, device)
    train_origins = torch.from_numpy(data.train_origins).to(device)
    val_origins = torch.from_numpy(data.val_origins).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    result = TrainResult(state_dict={}, best_epoch=0, device=str(device))
    best, stale = float("inf"), 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        train_loss = _train_epoch(model, source, train_origins, optimizer, config, generator, should_stop)
        val_loss = evaluate_loss(model, source, val_origins) if len(val_origins) else None
        stats = EpochStats(epoch, train_loss, val_loss, time.perf_counter() - started)
        result.history.append(stats)
        score = val_loss if val_loss is not None else train_loss
        if score < best:
            best, stale = score, 0
            result.best_epoch = epoch
            result.state_dict = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        if on_epoch_end:
            on_epoch_end(stats)
        if should_stop and should_stop():
            result.stopped_early = True
            break
        if stale >= config.patience:
            break
    model.load_state_dict(result.state_dict)
    return result


def _train_epoch(model: nn.Module, source: WindowSource, origins: torch.Tensor, optimizer: torch.optim.Optimizer,
                 config: TrainConfig, generator: torch.Generator, should_stop: Callable[[], bool] | None) -> float:
    model.train()
    order = origins[torch.randperm(len(origins), generator=generator).to(origins.device)]
    total, count = 0.0, 0
    for start in range(0, len(order), config.batch_size):
        x, y = source.batch(order[start: start + config.batch_size])
        optimizer.zero_grad(set_to_none=True)
        loss = sample_losses(model(x), y, source.classify).mean()
        loss.backward()
        if config.clip_grad > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        optimizer.step()
        total += float(loss.detach()) * len(x)
        count += len(x)
        if should_stop and should_stop():
            break
    return total / max(count, 1)


@torch.no_grad()
def evaluate_loss(model: nn.Module, source: WindowSource, origins: torch.Tensor) -> float:
    """Mean loss per window over `origins` (MSE, or cross-entropy), in evaluation mode (no dropout)."""
    model.eval()
    total = 0.0
    for start in range(0, len(origins), EVAL_BATCH):
        x, y = source.batch(origins[start: start + EVAL_BATCH])
        total += float(sample_losses(model(x), y, source.classify).sum())
    return total / max(len(origins), 1)


def sample_losses(output: torch.Tensor, target: torch.Tensor, classify: bool) -> torch.Tensor:
    """One loss per window: MSE over the horizon on z-scores, or for a classifier the cross-entropy of
    its (B, C) logits against the class code of the last target row (the label `horizon` rows ahead)."""
    if classify:
        return nn.functional.cross_entropy(output, target[:, -1].long(), reduction="none")  # (B,)
    return ((output - target) ** 2).mean(dim=1)  # (B, H) -> (B,)
