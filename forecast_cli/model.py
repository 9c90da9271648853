"""The network: a recurrent encoder and a direct multi-output head, pure torch.

Shape legend: B batch, L window, F features, H horizon, D hidden size, K directions (1 or 2).
Knows no column names and no pandas; `relative` says how many leading columns (target first)
are re-expressed against their last observed value, the "window" normalization.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the module before loading weights; stored in the manifest."""

    n_features: int  # F
    horizon: int  # H
    cell: str = "lstm"
    hidden_size: int = 32  # D
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    relative: int = 0  # leading columns made relative to the window's last row; 0 = plain z-score

    def to_dict(self) -> dict:
        return asdict(self)


class Forecaster(nn.Module):
    """(B, L, F) z-scored windows -> (B, H) z-scored target forecasts."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        recurrent = nn.LSTM if spec.cell == "lstm" else nn.GRU
        self.encoder = recurrent(
            input_size=spec.n_features,
            hidden_size=spec.hidden_size,
            num_layers=spec.num_layers,
            dropout=spec.dropout if spec.num_layers > 1 else 0.0,
            bidirectional=spec.bidirectional,
            batch_first=True,
        )
        directions = 2 if spec.bidirectional else 1
        self.head = nn.Linear(directions * spec.hidden_size, spec.horizon)
        if spec.relative:
            # Start as the naive forecast (offset 0): training moves away from it only where that helps.
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        anchor = x[:, -1, : self.spec.relative]  # (B, L, F) -> (B, R)
        encoded = self.encode(self.make_relative(x, anchor))  # (B, K*D)
        forecast = self.head(encoded)  # (B, K*D) -> (B, H)
        if self.spec.relative:
            forecast = forecast + anchor[:, :1]  # offsets from the last target value -> levels
        return forecast

    def make_relative(self, x: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """Subtract each relative column's last value, so unseen levels look like seen ones."""
        if not self.spec.relative:
            return x
        relative = x[:, :, : self.spec.relative] - anchor.unsqueeze(1)  # (B, L, R)
        return torch.cat([relative, x[:, :, self.spec.relative:]], dim=2)  # (B, L, F)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's final hidden state, both directions joined."""
        _, state = self.encoder(x)
        h_n = state[0] if isinstance(state, tuple) else state  # (layers*K, B, D)
        directions = 2 if self.spec.bidirectional else 1
        last = h_n.view(self.spec.num_layers, directions, x.shape[0], self.spec.hidden_size)[-1]  # (K, B, D)
        return last.permute(1, 0, 2).reshape(x.shape[0], directions * self.spec.hidden_size)  # (B, K*D)
