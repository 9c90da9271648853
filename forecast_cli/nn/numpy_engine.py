"""A saved model's forward pass in NumPy, for `predict --engine numpy`: no torch import at all.

Mirrors `model.Forecaster.forward` step for step (window normalization, encoder, head, anchor
add-back) on top of reference.py's LSTM/GRU equations; tests pin the two engines together.
Reads the manifest's `model_spec` dict, since model.py (where ModelSpec lives) imports torch.
Shape legend as in model.py: B batch, L window, F features, H horizon, D hidden size, K directions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from forecast_cli.nn import reference
from forecast_cli.errors import ArtifactError

GATES = {"lstm": 4, "gru": 3}  # gate rows per hidden unit in torch's weight layout


def numpy_forward(spec: dict, weights: dict[str, np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """(B, L, F) float32 z-scores -> (B, H) z-scores (or (B, C) logits), like the torch module; in float64.

    Weights must match the spec exactly (names and shapes), as torch's strict load demands.
    """
    check_weights(spec, weights)
    params = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}

    def forward(batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float64)
        relative = spec["relative"]
        anchor = x[:, -1, :relative]  # (B, L, F) -> (B, R)
        x = _make_relative(x, anchor, relative)
        if spec.get("decoder", "direct") == "seq2seq":
            output = _decode(spec, params, _run_encoder(spec, params, x), x[:, -1, :1])  # start token (B, 1)
        else:
            output = _head(spec, params, _encode(spec, params, x))  # (B, K*D) -> (B, H), or (B, C) logits
        if relative and spec.get("task", "forecast") != "classify":
            output = output + anchor[:, :1]  # offsets from the last target value -> levels
        return output

    return forward


def _make_relative(x: np.ndarray, anchor: np.ndarray, relative: int) -> np.ndarray:
    """Subtract each relative column's last value, as Forecaster.make_relative does."""
    if not relative:
        return x
    shifted = x.copy()
    shifted[:, :, :relative] -= anchor[:, None, :]  # (B, L, R) - (B, 1, R)
    return shifted


def _run_encoder(spec: dict, params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The encoder's final states: (h_n,) for the GRU, (h_n, c_n) for the LSTM, each (layers*K, B, D)."""
    weights = _prefixed(params, "encoder.")
    if spec["cell"] == "lstm":
        _, states, _ = reference.lstm_forward(x, weights, spec["num_layers"], spec["bidirectional"])
        return states
    _, h_n, _ = reference.gru_forward(x, weights, spec["num_layers"], spec["bidirectional"])
    return (h_n,)


def _encode(spec: dict, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The last layer's final hidden state, both directions joined: (B, K*D)."""
    h_n = _run_encoder(spec, params, x)[0]  # (layers*K, B, D)
    directions = 2 if spec["bidirectional"] else 1
    last = h_n.reshape(spec["num_layers"], directions, x.shape[0], spec["hidden_size"])[-1]  # (K, B, D)
    return last.transpose(1, 0, 2).reshape(x.shape[0], directions * spec["hidden_size"])  # (B, K*D)


def _head(spec: dict, params: dict[str, np.ndarray], encoded: np.ndarray) -> np.ndarray:
    """The direct multi-output head: (B, K*D) -> (B, H)."""
    return encoded @ params["head.weight"].T + params["head.bias"]


def _decode(spec: dict, params: dict[str, np.ndarray], state: tuple[np.ndarray, ...], start: np.ndarray) -> np.ndarray:
    """Seq2SeqDecoder.forward: unroll H single steps, each fed the previous step's output; -> (B, H)."""
    state = _bridge(spec, params, state)  # each (N, B, D)
    cell = _prefixed(params, "decoder.cell.")
    step_input = start[:, :, None]  # (B, 1) -> (B, 1, 1)
    steps = []
    for _ in range(spec["horizon"]):
        if spec["cell"] == "lstm":
            output, state, _ = reference.lstm_forward(step_input, cell, spec["num_layers"], False, *state)
        else:
            output, h_n, _ = reference.gru_forward(step_input, cell, spec["num_layers"], False, state[0])
            state = (h_n,)
        step_input = output @ params["decoder.out.weight"].T + params["decoder.out.bias"]  # (B, 1, D) -> (B, 1, 1)
        steps.append(step_input[:, 0])  # (B, 1)
    return np.concatenate(steps, axis=1)  # H x (B, 1) -> (B, H)


def _bridge(spec: dict, params: dict[str, np.ndarray], state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """A bidirectional encoder's final states joined per layer and mapped to D, as Seq2SeqDecoder.initial_state."""
    if not spec["bidirectional"]:
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


def expected_shapes(spec: dict) -> dict[str, tuple[int, ...]]:
    """Every weight the spec implies, with its shape, in torch's naming and layout."""
    shapes = _recurrent_shapes("encoder.", spec["cell"], spec["n_features"], spec["hidden_size"],
                               spec["num_layers"], spec["bidirectional"])
    hidden_size = spec["hidden_size"]
    width = (2 if spec["bidirectional"] else 1) * hidden_size
    if spec.get("decoder", "direct") != "seq2seq":
        outputs = spec["n_classes"] if spec.get("task", "forecast") == "classify" else spec["horizon"]
        shapes.update({"head.weight": (outputs, width), "head.bias": (outputs,)})
        return shapes
    shapes.update(_recurrent_shapes("decoder.cell.", spec["cell"], 1, hidden_size, spec["num_layers"], False))
    shapes.update({"decoder.out.weight": (1, hidden_size), "decoder.out.bias": (1,)})
    if spec["bidirectional"]:
        bridges = ["decoder.bridge", "decoder.bridge_cell"] if spec["cell"] == "lstm" else ["decoder.bridge"]
        for name in bridges:
            shapes.update({f"{name}.weight": (hidden_size, width), f"{name}.bias": (hidden_size,)})
    return shapes


def _recurrent_shapes(prefix: str, cell: str, input_size: int, hidden_size: int, num_layers: int,
                      bidirectional: bool) -> dict[str, tuple[int, ...]]:
    """Shapes of a torch.nn.LSTM / GRU's parameters: layer 0 reads the input, later layers K*D."""
    rows = GATES[cell] * hidden_size
    directions = 2 if bidirectional else 1
    shapes = {}
    for layer in range(num_layers):
        width = input_size if layer == 0 else directions * hidden_size
        for suffix in ["", "_reverse"][:directions]:
            name = f"_l{layer}{suffix}"
            shapes.update({f"{prefix}weight_ih{name}": (rows, width), f"{prefix}weight_hh{name}": (rows, hidden_size),
                           f"{prefix}bias_ih{name}": (rows,), f"{prefix}bias_hh{name}": (rows,)})
    return shapes


def check_weights(spec: dict, weights: dict[str, np.ndarray]) -> None:
    """Refuse weights whose names or shapes differ from what the manifest's model needs."""
    if spec.get("cell") not in GATES:
        raise ArtifactError(f"the manifest's model has cell {spec.get('cell')!r}, not lstm or gru; "
                            "fit the model again.")
    expected = expected_shapes(spec)
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [name for name in expected if name in weights and tuple(weights[name].shape) != expected[name]]
    if missing or unexpected or wrong:
        problem = (f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}" if unexpected
                   else f"{wrong[0]} has shape {tuple(weights[wrong[0]].shape)}, expected {expected[wrong[0]]}")
        raise ArtifactError(f"the weights do not match the manifest's model ({problem}); fit the model again.")
