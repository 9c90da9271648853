"""The network: a recurrent encoder, then a direct multi-output head or a seq2seq decoder; pure torch.

Shape legend: B batch, L window, F features, H horizon, D hidden size, K directions (1 or 2),
N layers, C chunk rows, P origins per chunk, Q quantile levels (1 without --quantiles). Knows no column
names and no pandas; `relative` says how many leading columns (target first) are re-expressed against
their last observed value, the "window" normalization, or (spec.differences, forking training) as
row-to-row differences.
"""

from __future__ import annotations

import torch
from torch import nn

from forecast_cli.nn.spec import ModelSpec


class Forecaster(nn.Module):
    """(B, L, F) z-scored windows -> (B, H*Q) z-scored target forecasts (each step's Q levels ascending),
    or (B, C) class logits."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        if spec.id_embedding:  # one learned vector per series, read from the windows' code column
            self.embedding = nn.Embedding(spec.n_series, spec.id_embedding)
        if spec.cell == "linear":  # no encoder: the head reads the whole (normalized) window
            self.head = nn.Linear(spec.window * spec.n_features + spec.id_embedding, spec.outputs)
            if spec.relative and spec.task != "classify":
                nn.init.zeros_(self.head.weight)  # offset 0 from the last value: the naive forecast
                nn.init.zeros_(self.head.bias)
            return
        recurrent = nn.LSTM if spec.cell == "lstm" else nn.GRU
        self.encoder = recurrent(
            input_size=spec.encoder_inputs,
            hidden_size=spec.hidden_size,
            num_layers=spec.num_layers,
            dropout=spec.dropout if spec.num_layers > 1 else 0.0,
            bidirectional=spec.bidirectional,
            batch_first=True,
        )
        directions = 2 if spec.bidirectional else 1
        if spec.task == "classify":
            self.head = nn.Linear(directions * spec.hidden_size, spec.n_classes)  # softmax is in the loss
        elif spec.decoder == "seq2seq":
            self.decoder = Seq2SeqDecoder(spec)
        else:
            self.head = nn.Linear(directions * spec.hidden_size, spec.outputs)  # H*Q
            if spec.relative:
                # Start as the naive forecast (offset 0): training moves away from it only where that helps.
                nn.init.zeros_(self.head.weight)
                nn.init.zeros_(self.head.bias)
            if spec.highway:  # (spec.highway): zero too, so the untrained model is still the baseline
                self.highway = nn.Linear(spec.window, spec.outputs)  # the target column only (others overfit)
                nn.init.zeros_(self.highway.weight)
                nn.init.zeros_(self.highway.bias)

    def forward(self, x_in: torch.Tensor) -> torch.Tensor:
        x_in, embedded = self.split_code(x_in)  # (B, L, F+1) -> (B, L, F), and (B, E) or None
        anchor = x_in[:, -1, : self.spec.relative]  # (B, L, F) -> (B, R)
        x = self.make_relative(x_in, anchor)  # (B, L, F)
        if self.spec.decoder == "seq2seq":
            _, state = self.encoder(with_embedding(x, embedded))  # h_n, or (h_n, c_n): each (N*K, B, D)
            forecast = self.decoder(state, x[:, -1, :1])  # start token (B, 1) -> (B, H*Q)
        else:
            forecast = self.head(self.encode(x, embedded))  # (B, K*D) -> (B, H*Q), or (B, C) logits
            if self.spec.highway:
                forecast = forecast + self.highway(x[:, :, 0])  # (B, L) -> (B, H*Q)
        if self.spec.quantiles:
            forecast = ordered_quantiles(forecast, self.spec.per_step)  # (B, H*Q), no crossing
        if self.spec.relative and self.spec.task != "classify":
            forecast = forecast + self.levels(x_in)  # offsets from the last (or the seasonal) target value -> levels
        return forecast

    def shift_levels(self, offsets: torch.Tensor) -> None:
        """Add (H*Q,) offsets to the direct head's bias: where training starts each quantile level
        (train.start_levels gives the training part's residual quantiles)."""
        with torch.no_grad():
            self.head.bias += offsets.to(self.head.bias)

    def levels(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, F) -> (B, H*Q): the target values the head's offsets start from, the naive forecast
        (the last value, repeated) or with spec.season the seasonal-naive one; each step's for all its
        Q quantile levels."""
        if not self.spec.season:
            anchor = x[:, -1, :1].expand(-1, self.spec.horizon)  # (B, H)
        else:
            anchor = x[:, self.spec.anchor_offsets, 0]  # (B, H), rows counted from the window's end
        return anchor.repeat_interleave(self.spec.per_step, dim=1) if self.spec.per_step > 1 else anchor

    def make_relative(self, x: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """Subtract each relative column's last value (or, with spec.differences, its previous row's),
        so unseen levels look like seen ones."""
        if not self.spec.relative:
            return x
        if self.spec.differences:
            return self.differenced(x)
        relative = x[:, :, : self.spec.relative] - anchor.unsqueeze(1)  # (B, L, R)
        return torch.cat([relative, x[:, :, self.spec.relative:]], dim=2)  # (B, L, F)

    def differenced(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, F) -> (B, L, F): the relative columns as scaled differences from the previous row, 0 at the first."""
        levels = x[:, :, : self.spec.relative]  # (B, L, R)
        steps = torch.cat([torch.zeros_like(levels[:, :1]), levels[:, 1:] - levels[:, :-1]], dim=1)  # (B, L, R)
        scale = torch.tensor(self.spec.differences, dtype=x.dtype, device=x.device)  # (R,)
        return torch.cat([steps / scale, x[:, :, self.spec.relative:]], dim=2)

    def forward_chunk(self, x: torch.Tensor, burn_in: int) -> torch.Tensor:
        """Forking sequences: (B, C, F) chunks -> (B, C - burn_in + 1, H) forecasts, one per origin.

        Output p is the forecast from the origin after row burn_in - 1 + p of the chunk: the head on the
        hidden state after reading rows 0 .. burn_in - 1 + p, exactly what `forward` gives on those rows
        as one window. Needs a unidirectional encoder and the direct head (config.check_training_fits).
        """
        outputs, _ = self.encoder(self.make_relative(x, x[:, -1, : self.spec.relative]))  # (B, C, D)
        forecast = self.head(outputs[:, burn_in - 1:])  # (B, P, D) -> (B, P, H*Q)
        if self.spec.quantiles:
            forecast = ordered_quantiles(forecast, self.spec.per_step)
        if self.spec.relative:
            forecast = forecast + x[:, burn_in - 1:, :1]  # each origin's last target value: (B, P, 1)
        return forecast

    def split_code(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """With a code column (spec.n_series): the windows without it, and the embedding of each window's
        series (its last row's code), or None when the model has no embedding (the linear baseline)."""
        if not self.spec.n_series:
            return x, None
        if not self.spec.id_embedding:
            return x[:, :, :-1], None
        codes = x[:, -1, -1].round().long()  # (B,): positions in the series file's ids
        return x[:, :, :-1], self.embedding(codes)  # (B, L, F), (B, E)

    def encode(self, x: torch.Tensor, embedded: torch.Tensor | None = None) -> torch.Tensor:
        """The last layer's final hidden state, both directions joined; the linear cell's flattened window
        (each with the series' embedding joined, when there is one)."""
        if self.spec.cell == "linear":
            flat = x.reshape(x.shape[0], -1)  # (B, L, F) -> (B, L*F)
            return flat if embedded is None else torch.cat([flat, embedded], dim=1)  # (B, L*F + E)
        _, state = self.encoder(with_embedding(x, embedded))
        h_n = state[0] if isinstance(state, tuple) else state  # (layers*K, B, D)
        directions = 2 if self.spec.bidirectional else 1
        last = h_n.view(self.spec.num_layers, directions, x.shape[0], self.spec.hidden_size)[-1]  # (K, B, D)
        return last.permute(1, 0, 2).reshape(x.shape[0], directions * self.spec.hidden_size)  # (B, K*D)


class Seq2SeqDecoder(nn.Module):
    """Unrolls H steps from the encoder's final state, each step fed the previous step's output.

    A unidirectional cell of the encoder's type and depth reads one value per step (input size 1);
    the start token is the last observed target, so under window normalization every value is an
    offset from it (the start is 0) and a zero `out` layer gives the naive forecast at first.
    A bidirectional encoder's two final states per layer are joined and mapped to D by `bridge`.
    With quantiles, `out` gives each step's Q levels (sorted) and the point level is fed back.
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.horizon = spec.horizon
        recurrent = nn.LSTM if spec.cell == "lstm" else nn.GRU
        self.cell = recurrent(input_size=1, hidden_size=spec.hidden_size, num_layers=spec.num_layers,
                              dropout=spec.dropout if spec.num_layers > 1 else 0.0, batch_first=True)
        self.bidirectional = spec.bidirectional
        if spec.bidirectional:
            self.bridge = nn.Linear(2 * spec.hidden_size, spec.hidden_size)
            if spec.cell == "lstm":
                self.bridge_cell = nn.Linear(2 * spec.hidden_size, spec.hidden_size)
        self.per_step = spec.per_step  # Q
        self.point = spec.point  # the level fed back
        self.out = nn.Linear(spec.hidden_size, spec.per_step)
        if spec.relative:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, state, start: torch.Tensor) -> torch.Tensor:
        """state: the encoder's h_n or (h_n, c_n), each (N*K, B, D); start (B, 1) -> (B, H*Q)."""
        state = self.initial_state(state)
        step_input = start.unsqueeze(1)  # (B, 1) -> (B, 1, 1)
        steps = []
        for _ in range(self.horizon):
            output, state = self.cell(step_input, state)  # (B, 1, 1) -> (B, 1, D)
            values = self.out(output)[:, 0]  # (B, 1, D) -> (B, Q): this step's values
            if self.per_step > 1:
                values = torch.sort(values, dim=1).values
            steps.append(values)
            step_input = values[:, None, self.point: self.point + 1]  # (B, 1, 1): the next step's input
        return torch.cat(steps, dim=1)  # H x (B, Q) -> (B, H*Q)

    def initial_state(self, state):
        """The encoder's final state as the decoder's start: both directions joined and mapped to D."""
        if not self.bidirectional:
            return state
        if isinstance(state, tuple):
            return torch.tanh(self.bridge(_join_directions(state[0]))), self.bridge_cell(_join_directions(state[1]))
        return torch.tanh(self.bridge(_join_directions(state)))


def with_embedding(x: torch.Tensor, embedded: torch.Tensor | None) -> torch.Tensor:
    """(B, L, F) and (B, E) -> (B, L, F+E): the series' embedding joined to every time step's inputs."""
    if embedded is None:
        return x
    return torch.cat([x, embedded.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)


def ordered_quantiles(forecast: torch.Tensor, levels: int) -> torch.Tensor:
    """(..., H*Q) -> (..., H*Q) with each step's Q values sorted ascending, so quantiles never cross.

    Sorting (rearrangement) rather than a base plus softplus increments: a zero head still gives every
    level the naive forecast, as without quantiles, and sorting never raises the pinball loss.
    """
    shape = forecast.shape
    steps = forecast.reshape(*shape[:-1], shape[-1] // levels, levels)  # (..., H, Q)
    return torch.sort(steps, dim=-1).values.reshape(shape)


def _join_directions(state: torch.Tensor) -> torch.Tensor:
    """(N*2, B, D) -> (N, B, 2D): per layer, the forward and the reverse final state side by side."""
    layers2, batch, hidden = state.shape
    per_layer = state.view(layers2 // 2, 2, batch, hidden)  # (N, 2, B, D)
    return per_layer.permute(0, 2, 1, 3).reshape(layers2 // 2, batch, 2 * hidden)  # (N, B, 2D)
