"""What training reads: the scaled series and which origins train and validate. Torch-free, so fit
reads and prepares its data before torch is loaded (train.py takes it from here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    quantiles: tuple[float, ...] = ()  # the outputs are these levels per step: pinball loss instead of MSE
