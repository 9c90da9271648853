"""A saved model's forward pass in NumPy, for `predict --engine numpy`: no torch import at all.

Mirrors `model.Forecaster.forward` step for step (window normalization, encoder, head, anchor
add-back) on top of reference.py's LSTM/GRU equations; tests pin the two engines together.
Takes a ModelSpec (spec.py, torch-free); the weights are checked against it by the caller
(forward.check_weights, the same check the torch engine passes).
Shape legend as in model.py: B batch, L window, F features, H horizon, D hidden size, K directions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from forecast_cli.nn import reference
from forecast_cli.nn.spec import ModelSpec


def numpy_forward(spec: ModelSpec, weights: dict[str, np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """(B, L, F) float32 z-scores -> (B, H) z-scores (or (B, C) logits), like the torch module; in float64.

    `weights` must already match the spec exactly (names, shapes, float types): forward.check_weights.
    """
    params = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}

    def forward(batch: np.ndarray) -> np.ndarray:
        levels = np.asarray(batch, dtype=np.float64)
        embedded = None
        if spec.n_series:  # the last column is the series' code: split off (Forecaster.split_code)
            if spec.id_embedding:
                embedded = params["embedding.weight"][np.rint(levels[:, -1, -1]).astype(np.int64)]  # (B, E)
            levels = levels[:, :, :-1]
        relative = spec.relative
        anchor = levels[:, -1, :relative]  # (B, L, F) -> (B, R)
        x = _make_relative(levels, anchor, relative, spec.differences)
        if spec.decoder == "seq2seq" and spec.task != "classify":
            output = _decode(spec, params, _run_encoder(spec, params, _with_embedding(x, embedded)), x[:, -1, :1])
        else:
            output = _head(spec, params, _encode(spec, params, x, embedded))  # (B, K*D) -> (B, H*Q), or (B, C) logits
            if spec.highway:
                output = output + x[:, :, 0] @ params["highway.weight"].T + params["highway.bias"]  # (B, L) -> (B, H*Q)
            if spec.quantiles:
                output = ordered_quantiles(output, spec.per_step)
        if relative and spec.task != "classify":
            anchor = levels[:, spec.anchor_offsets, 0]  # (B, H): the last (or the seasonal) target value
            output = output + np.repeat(anchor, spec.per_step, axis=1)  # offsets -> levels, each step's Q alike
        return output

    return forward


def _make_relative(x: np.ndarray, anchor: np.ndarray, relative: int,
                   differences: tuple[float, ...] = ()) -> np.ndarray:
    """Subtract each relative column's last value, or its previous row's divided by the spread of
    the differences (forking training), as Forecaster.make_relative does."""
    if not relative:
        return x
    shifted = x.copy()
    if differences:
        shifted[:, 0, :relative] = 0.0  # the first row has no previous one
        shifted[:, 1:, :relative] = np.diff(x[:, :, :relative], axis=1) / np.asarray(differences)  # (B, L-1, R)
        return shifted
    shifted[:, :, :relative] -= anchor[:, None, :]  # (B, L, R) - (B, 1, R)
    return shifted


def ordered_quantiles(output: np.ndarray, levels: int) -> np.ndarray:
    """(B, H*Q) -> (B, H*Q), each step's Q values sorted ascending, as model.ordered_quantiles."""
    return np.sort(output.reshape(output.shape[0], -1, levels), axis=-1).reshape(output.shape)


def _run_encoder(spec: ModelSpec, params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The encoder's final states: (h_n,) for the GRU, (h_n, c_n) for the LSTM, each (layers*K, B, D)."""
    weights = _prefixed(params, "encoder.")
    if spec.cell == "lstm":
        _, states, _ = reference.lstm_forward(x, weights, spec.num_layers, spec.bidirectional)
        return states
    _, h_n, _ = reference.gru_forward(x, weights, spec.num_layers, spec.bidirectional)
    return (h_n,)


def _with_embedding(x: np.ndarray, embedded: np.ndarray | None) -> np.ndarray:
    """(B, L, F) and (B, E) -> (B, L, F+E), as model.with_embedding."""
    if embedded is None:
        return x
    return np.concatenate([x, np.broadcast_to(embedded[:, None, :], (*x.shape[:2], embedded.shape[1]))], axis=2)


def _encode(spec: ModelSpec, params: dict[str, np.ndarray], x: np.ndarray,
            embedded: np.ndarray | None = None) -> np.ndarray:
    """The last layer's final hidden state, both directions joined: (B, K*D); the linear cell's flattened
    window; each with the series' embedding (B, E) joined when there is one."""
    if spec.cell == "linear":
        flat = x.reshape(x.shape[0], -1)  # (B, L, F) -> (B, L*F)
        return flat if embedded is None else np.concatenate([flat, embedded], axis=1)  # (B, L*F + E)
    h_n = _run_encoder(spec, params, _with_embedding(x, embedded))[0]  # (layers*K, B, D)
    last = h_n.reshape(spec.num_layers, spec.directions, x.shape[0], spec.hidden_size)[-1]  # (K, B, D)
    return last.transpose(1, 0, 2).reshape(x.shape[0], spec.directions * spec.hidden_size)  # (B, K*D)


def _head(spec: ModelSpec, params: dict[str, np.ndarray], encoded: np.ndarray) -> np.ndarray:
    """The direct multi-output head: (B, K*D) -> (B, H)."""
    return encoded @ params["head.weight"].T + params["head.bias"]


def _decode(spec: ModelSpec, params: dict[str, np.ndarray], state: tuple[np.ndarray, ...], start: np.ndarray) -> np.ndarray:
    """Seq2SeqDecoder.forward: unroll H single steps, each fed the previous step's (point) output; -> (B, H*Q)."""
    state = _bridge(spec, params, state)  # each (N, B, D)
    cell = _prefixed(params, "decoder.cell.")
    step_input = start[:, :, None]  # (B, 1) -> (B, 1, 1)
    steps = []
    for _ in range(spec.horizon):
        if spec.cell == "lstm":
            output, state, _ = reference.lstm_forward(step_input, cell, spec.num_layers, False, *state)
        else:
            output, h_n, _ = reference.gru_forward(step_input, cell, spec.num_layers, False, state[0])
            state = (h_n,)
        values = np.sort(output[:, 0] @ params["decoder.out.weight"].T + params["decoder.out.bias"], axis=1)  # (B, Q)
        steps.append(values)
        step_input = values[:, None, spec.point: spec.point + 1]  # (B, 1, 1)
    return np.concatenate(steps, axis=1)  # H x (B, Q) -> (B, H*Q)


def _bridge(spec: ModelSpec, params: dict[str, np.ndarray], state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """A bidirectional encoder's final states joined per layer and mapped to D, as Seq2SeqDecoder.initial_state."""
    if not spec.bidirectional:
        return state
    names = ("decoder.bridge", "decoder.bridge_cell")
    mapped = [_join_directions(part) @ params[f"{name}.weight"].T + params[f"{name}.bias"]
              for name, part in zip(names, state)]
    mapped[0] = np.tanh(mapped[0])  # h is squashed like a cell's output; c stays linear
    return tuple(mapped)


def _join_directions(state: np.ndarray) -> np.ndarray:
    """(N*2, B, D) -> (N, B, 2D): per layer, the forward and the reverse final state side by side."""
    layers2, batch, hidden = state.shape
    return state.reshape(layers2 // 2, 2, batch, hidden).transpose(0, 2, 1, 3).reshape(layers2 // 2, batch, 2 * hidden)


def _prefixed(params: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The sub-dict under `prefix`, keys stripped, as reference.py expects torch's own names."""
    return {name[len(prefix):]: array for name, array in params.items() if name.startswith(prefix)}
