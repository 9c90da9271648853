"""A saved model's forward pass in NumPy, for `predict --engine numpy`: no torch import at all.

Mirrors `model.Forecaster.forward` step for step (window normalization, encoder, head, anchor
add-back) on top of reference.py's LSTM/GRU equations; tests pin the two engines together.
Reads the manifest's `model_spec` dict, since model.py (where ModelSpec lives) imports torch.
Shape legend as in model.py: B batch, L window, F features, H horizon, D hidden size, K directions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from forecast_cli import reference
from forecast_cli.errors import ArtifactError

GATES = {"lstm": 4, "gru": 3}  # gate rows per hidden unit in torch's weight layout


def numpy_forward(spec: dict, weights: dict[str, np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """(B, L, F) float32 z-scores -> (B, H) z-scores, like the torch module; computed in float64.

    Weights must match the spec exactly (names and shapes), as torch's strict load demands.
    """
    check_weights(spec, weights)
    params = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}

    def forward(batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float64)
        relative = spec["relative"]
        anchor = x[:, -1, :relative]  # (B, L, F) -> (B, R)
        output = _head(spec, params, _encode(spec, params, _make_relative(x, anchor, relative)))  # (B, H)
        if relative:
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


def _prefixed(params: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The sub-dict under `prefix`, keys stripped, as reference.py expects torch's own names."""
    return {name[len(prefix):]: array for name, array in params.items() if name.startswith(prefix)}


def expected_shapes(spec: dict) -> dict[str, tuple[int, ...]]:
    """Every weight the spec implies, with its shape, in torch's naming and layout."""
    shapes = _recurrent_shapes("encoder.", spec["cell"], spec["n_features"], spec["hidden_size"],
                               spec["num_layers"], spec["bidirectional"])
    width = (2 if spec["bidirectional"] else 1) * spec["hidden_size"]
    shapes.update({"head.weight": (spec["horizon"], width), "head.bias": (spec["horizon"],)})
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
        raise ArtifactError(f"the manifest's model has cell {spec.get('cell')!r}, not lstm or gru; fit the model again.")
    expected = expected_shapes(spec)
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [name for name in expected if name in weights and tuple(weights[name].shape) != expected[name]]
    if missing or unexpected or wrong:
        problem = (f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}" if unexpected
                   else f"{wrong[0]} has shape {tuple(weights[wrong[0]].shape)}, expected {expected[wrong[0]]}")
        raise ArtifactError(f"the weights do not match the manifest's model ({problem}); fit the model again.")
