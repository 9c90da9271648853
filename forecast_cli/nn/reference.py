"""NumPy reference LSTM and GRU: forward and backpropagation through time, written from the gate equations.

Owns a readable, dependency-light oracle that loads a torch ``state_dict`` converted to NumPy arrays
(same keys, same gate order and weight layout as ``torch.nn.LSTM`` / ``torch.nn.GRU``). Imports numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Shape legend: B batch, L sequence length, F input features, D hidden size, G = 4D (LSTM) or 3D (GRU) gate rows.
# A "direction" is one layer run one way; torch stores it under suffix `_l{layer}` or `_l{layer}_reverse`.

States = tuple[np.ndarray, ...]  # (h,) for the GRU, (h, c) for the LSTM; each (B, D) or stacked (layers*dirs, B, D)


@dataclass(frozen=True)
class Weights:
    """One direction's parameters in torch layout: w_ih (G, F), w_hh (G, D), b_ih (G,), b_hh (G,)."""

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fields in state_dict key order (see `_param_names`); dataclasses.astuple would deep-copy the arrays."""
        return (self.w_ih, self.w_hh, self.b_ih, self.b_hh)


@dataclass(frozen=True)
class LSTMDirectionCache:
    """Activations one LSTM direction keeps for backprop; time runs in processing order (flipped for reverse)."""

    weights: Weights
    inputs: np.ndarray  # (B, L, F)
    hidden_before: np.ndarray  # (B, L, D) h_{t-1}
    cell_before: np.ndarray  # (B, L, D) c_{t-1}
    gates: np.ndarray  # (B, L, 4D) activated i, f, g, o
    cell_tanh: np.ndarray  # (B, L, D) tanh(c_t)


@dataclass(frozen=True)
class GRUDirectionCache:
    """Activations one GRU direction keeps for backprop; time runs in processing order (flipped for reverse)."""

    weights: Weights
    inputs: np.ndarray  # (B, L, F)
    hidden_before: np.ndarray  # (B, L, D) h_{t-1}
    gates: np.ndarray  # (B, L, 3D) activated r, z, n
    hidden_candidate: np.ndarray  # (B, L, D) W_hn h_{t-1} + b_hn, which r scales


@dataclass(frozen=True)
class LSTMCache:
    """Everything `lstm_backward` needs: one cache per direction, indexed layer * dirs + reverse like h_n."""

    num_layers: int
    bidirectional: bool
    directions: list[LSTMDirectionCache]


@dataclass(frozen=True)
class GRUCache:
    """Everything `gru_backward` needs: one cache per direction, indexed layer * dirs + reverse like h_n."""

    num_layers: int
    bidirectional: bool
    directions: list[GRUDirectionCache]


# One direction's pass, as the layered driver calls it: (inputs, weights, states) -> (outputs, final states, cache)
# and (cache, d_outputs, d_final states) -> (d_inputs, parameter grads, d_initial states).
DirectionForward = Callable[[np.ndarray, Weights, States], tuple[np.ndarray, States, object]]
DirectionBackward = Callable[[object, np.ndarray, States], tuple[np.ndarray, Weights, States]]


def _sigmoid(values: np.ndarray) -> np.ndarray:
    """Logistic function via tanh, which never overflows (1/(1+exp(-x)) warns for large negative x in float32)."""
    return 0.5 * (1.0 + np.tanh(0.5 * values))


def _param_names(layer: int, reverse: bool) -> tuple[str, str, str, str]:
    """torch's state_dict keys for one direction, in `Weights` field order."""
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    return (f"weight_ih{suffix}", f"weight_hh{suffix}", f"bias_ih{suffix}", f"bias_hh{suffix}")


# --- one direction of one layer -----------------------------------------------------------------------------


def _lstm_direction_forward(
    x: np.ndarray, weights: Weights, states: States
) -> tuple[np.ndarray, States, LSTMDirectionCache]:
    """Run one LSTM direction left to right over x (B, L, F) from states (h0, c0); returns (B, L, D) outputs."""
    batch, length, _ = x.shape
    hidden_size = weights.w_hh.shape[1]
    h, c = states
    # Input projections for every step at once; both biases fold in here.
    input_part = x @ weights.w_ih.T + (weights.b_ih + weights.b_hh)  # (B, L, F) -> (B, L, 4D)
    outputs = np.empty((batch, length, hidden_size), dtype=input_part.dtype)
    hidden_before, cell_before, cell_tanh = np.empty_like(outputs), np.empty_like(outputs), np.empty_like(outputs)
    gates = np.empty_like(input_part)
    for t in range(length):
        hidden_before[:, t], cell_before[:, t] = h, c
        pre_activation = input_part[:, t] + h @ weights.w_hh.T  # (B, 4D), gate order i, f, g, o
        activated = _sigmoid(pre_activation)
        activated[:, 2 * hidden_size : 3 * hidden_size] = np.tanh(pre_activation[:, 2 * hidden_size : 3 * hidden_size])
        input_gate, forget_gate, candidate, output_gate = np.split(activated, 4, axis=1)
        c = forget_gate * c + input_gate * candidate
        cell_tanh[:, t] = np.tanh(c)
        h = output_gate * cell_tanh[:, t]
        gates[:, t], outputs[:, t] = activated, h
    cache = LSTMDirectionCache(weights, x, hidden_before, cell_before, gates, cell_tanh)
    return outputs, (h, c), cache


def _lstm_direction_backward(
    cache: LSTMDirectionCache, d_outputs: np.ndarray, d_final: States
) -> tuple[np.ndarray, Weights, States]:
    """Backprop through one LSTM direction; returns d_x (B, L, F), parameter grads and (d_h0, d_c0)."""
    hidden_size = cache.weights.w_hh.shape[1]
    d_h, d_c = d_final
    d_pre_activation = np.empty_like(cache.gates)  # (B, L, 4D)
    for t in reversed(range(d_outputs.shape[1])):
        input_gate, forget_gate, candidate, output_gate = np.split(cache.gates[:, t], 4, axis=1)
        cell_tanh = cache.cell_tanh[:, t]
        d_h = d_h + d_outputs[:, t]
        d_c = d_c + d_h * output_gate * (1.0 - cell_tanh**2)
        step = d_pre_activation[:, t]  # (B, 4D) view, filled gate by gate
        step[:, :hidden_size] = d_c * candidate * input_gate * (1.0 - input_gate)
        step[:, hidden_size : 2 * hidden_size] = d_c * cache.cell_before[:, t] * forget_gate * (1.0 - forget_gate)
        step[:, 2 * hidden_size : 3 * hidden_size] = d_c * input_gate * (1.0 - candidate**2)
        step[:, 3 * hidden_size :] = d_h * cell_tanh * output_gate * (1.0 - output_gate)
        d_c = d_c * forget_gate
        d_h = step @ cache.weights.w_hh  # (B, 4D) -> (B, D)
    d_bias = d_pre_activation.sum(axis=(0, 1))  # b_ih and b_hh enter identically
    grads = Weights(
        w_ih=np.tensordot(d_pre_activation, cache.inputs, axes=([0, 1], [0, 1])),  # (4D, F)
        w_hh=np.tensordot(d_pre_activation, cache.hidden_before, axes=([0, 1], [0, 1])),  # (4D, D)
        b_ih=d_bias,
        b_hh=d_bias.copy(),
    )
    return d_pre_activation @ cache.weights.w_ih, grads, (d_h, d_c)  # d_x: (B, L, 4D) -> (B, L, F)


def _gru_direction_forward(
    x: np.ndarray, weights: Weights, states: States
) -> tuple[np.ndarray, States, GRUDirectionCache]:
    """Run one GRU direction left to right over x (B, L, F) from states (h0,); returns (B, L, D) outputs."""
    batch, length, _ = x.shape
    hidden_size = weights.w_hh.shape[1]
    (h,) = states
    # b_hh stays on the hidden side: r scales W_hn h + b_hn, so the biases cannot be folded together.
    input_part = x @ weights.w_ih.T + weights.b_ih  # (B, L, F) -> (B, L, 3D)
    outputs = np.empty((batch, length, hidden_size), dtype=input_part.dtype)
    hidden_before, hidden_candidate = np.empty_like(outputs), np.empty_like(outputs)
    gates = np.empty_like(input_part)
    for t in range(length):
        hidden_before[:, t] = h
        hidden_part = h @ weights.w_hh.T + weights.b_hh  # (B, 3D), gate order r, z, n
        reset_update = _sigmoid(input_part[:, t, : 2 * hidden_size] + hidden_part[:, : 2 * hidden_size])
        reset, update = reset_update[:, :hidden_size], reset_update[:, hidden_size:]
        candidate = np.tanh(input_part[:, t, 2 * hidden_size :] + reset * hidden_part[:, 2 * hidden_size :])
        h = (1.0 - update) * candidate + update * h
        gates[:, t, : 2 * hidden_size], gates[:, t, 2 * hidden_size :] = reset_update, candidate
        hidden_candidate[:, t], outputs[:, t] = hidden_part[:, 2 * hidden_size :], h
    cache = GRUDirectionCache(weights, x, hidden_before, gates, hidden_candidate)
    return outputs, (h,), cache


def _gru_direction_backward(
    cache: GRUDirectionCache, d_outputs: np.ndarray, d_final: States
) -> tuple[np.ndarray, Weights, States]:
    """Backprop through one GRU direction; returns d_x (B, L, F), parameter grads and (d_h0,)."""
    (d_h,) = d_final
    d_input_part = np.empty_like(cache.gates)  # (B, L, 3D) grads of W_ih x + b_ih
    d_hidden_part = np.empty_like(cache.gates)  # (B, L, 3D) grads of W_hh h + b_hh
    for t in reversed(range(d_outputs.shape[1])):
        reset, update, candidate = np.split(cache.gates[:, t], 3, axis=1)
        d_h = d_h + d_outputs[:, t]
        d_candidate = d_h * (1.0 - update) * (1.0 - candidate**2)
        d_update = d_h * (cache.hidden_before[:, t] - candidate) * update * (1.0 - update)
        d_reset = d_candidate * cache.hidden_candidate[:, t] * reset * (1.0 - reset)
        d_input_part[:, t] = np.concatenate([d_reset, d_update, d_candidate], axis=1)
        d_hidden_part[:, t] = np.concatenate([d_reset, d_update, d_candidate * reset], axis=1)
        d_h = d_h * update + d_hidden_part[:, t] @ cache.weights.w_hh  # (B, 3D) -> (B, D)
    grads = Weights(
        w_ih=np.tensordot(d_input_part, cache.inputs, axes=([0, 1], [0, 1])),  # (3D, F)
        w_hh=np.tensordot(d_hidden_part, cache.hidden_before, axes=([0, 1], [0, 1])),  # (3D, D)
        b_ih=d_input_part.sum(axis=(0, 1)),
        b_hh=d_hidden_part.sum(axis=(0, 1)),
    )
    return d_input_part @ cache.weights.w_ih, grads, (d_h,)  # d_x: (B, L, 3D) -> (B, L, F)


# --- the layered, optionally bidirectional driver ------------------------------------------------------------


def _direction_weights(params: dict[str, np.ndarray], num_layers: int, bidirectional: bool) -> list[Weights]:
    """Each direction's parameters, in torch's order: layer 0 forward, layer 0 reverse, layer 1 forward, ..."""
    directions = [False, True] if bidirectional else [False]
    return [
        Weights(*(params[name] for name in _param_names(layer, reverse)))
        for layer in range(num_layers)
        for reverse in directions
    ]


def _stack_forward(
    x: np.ndarray, weights: list[Weights], num_directions: int, initial: States, run_direction: DirectionForward
) -> tuple[np.ndarray, States, list]:
    """Feed each layer's (B, L, D*dirs) output to the next; a reverse direction runs on the time-flipped input."""
    layer_input, finals, caches = x, [], []
    for layer_start in range(0, len(weights), num_directions):
        outputs = []
        for reverse in range(num_directions):
            index = layer_start + reverse
            sequence = layer_input[:, ::-1] if reverse else layer_input
            output, final, cache = run_direction(sequence, weights[index], tuple(state[index] for state in initial))
            outputs.append(output[:, ::-1] if reverse else output)
            finals.append(final)
            caches.append(cache)
        layer_input = np.concatenate(outputs, axis=2)  # dirs x (B, L, D) -> (B, L, D*dirs)
    stacked = tuple(np.stack(per_state) for per_state in zip(*finals))  # each (layers*dirs, B, D)
    return layer_input, stacked, caches


def _stack_backward(
    cache: LSTMCache | GRUCache, d_output: np.ndarray, d_final: States, run_backward: DirectionBackward
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Walk layers top-down; a layer's input gradient is the sum of what its directions send back."""
    num_directions = 2 if cache.bidirectional else 1
    hidden_size = d_output.shape[2] // num_directions
    d_layer_output, grads = d_output, {}
    for layer in reversed(range(cache.num_layers)):
        d_layer_input = 0.0
        for reverse in range(num_directions):
            index = layer * num_directions + reverse
            d_direction = d_layer_output[:, :, reverse * hidden_size : (reverse + 1) * hidden_size]  # (B, L, D)
            d_direction = d_direction[:, ::-1] if reverse else d_direction
            final = tuple(d_state[index] for d_state in d_final)
            d_sequence, direction_grads, _ = run_backward(cache.directions[index], d_direction, final)
            d_layer_input = d_layer_input + (d_sequence[:, ::-1] if reverse else d_sequence)
            grads.update(zip(_param_names(layer, bool(reverse)), direction_grads.as_tuple()))
        d_layer_output = d_layer_input
    return d_layer_output, grads


def _initial_states(x: np.ndarray, weights: list[Weights], given: list[np.ndarray | None]) -> States:
    """Given states as arrays, or zeros shaped (layers*dirs, B, D) in the input's dtype, like torch's default."""
    expected = (len(weights), x.shape[0], weights[0].w_hh.shape[1])
    states = tuple(np.zeros(expected, dtype=x.dtype) if state is None else np.asarray(state) for state in given)
    for state in states:
        if state.shape != expected:
            raise ValueError(f"initial state has shape {state.shape}; expected (layers*dirs, B, D) = {expected}")
    return states


def _zero_final_gradient(directions: list, dtype: np.dtype) -> np.ndarray:
    """Stand-in for an absent d_h_n / d_c_n: zeros (layers*dirs, B, D), sized from the cached (B, L, D) states."""
    batch, _, hidden_size = directions[0].hidden_before.shape
    return np.zeros((len(directions), batch, hidden_size), dtype=dtype)


def _check_input(x: np.ndarray) -> None:
    """Reject anything but batch_first (B, L, F), which the time loop relies on."""
    if x.ndim != 3:
        raise ValueError(f"x has shape {x.shape}; expected batch_first (B, L, F)")


# --- public API --------------------------------------------------------------------------------------------


def lstm_forward(
    x: np.ndarray,
    params: dict[str, np.ndarray],
    num_layers: int,
    bidirectional: bool = False,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], LSTMCache]:
    """torch.nn.LSTM(batch_first=True) forward: x (B, L, F) -> output (B, L, D*dirs), (h_n, c_n), cache.

    params uses torch's state_dict keys (biases required). h0/c0, h_n/c_n are (layers*dirs, B, D), zero by default.
    Computes in the dtype of x and params; no dropout between layers (inference semantics).
    """
    _check_input(x)
    weights = _direction_weights(params, num_layers, bidirectional)
    initial = _initial_states(x, weights, [h0, c0])
    output, (h_n, c_n), caches = _stack_forward(x, weights, 2 if bidirectional else 1, initial, _lstm_direction_forward)
    return output, (h_n, c_n), LSTMCache(num_layers, bidirectional, caches)


def lstm_backward(
    cache: LSTMCache,
    d_output: np.ndarray,
    d_h_n: np.ndarray | None = None,
    d_c_n: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradients of a loss given its gradients on output (B, L, D*dirs) and optionally on h_n, c_n.

    Returns d_x (B, L, F) and a dict with the same keys as params. Missing d_h_n / d_c_n count as zero.
    """
    zeros = _zero_final_gradient(cache.directions, d_output.dtype)
    d_final = (zeros if d_h_n is None else d_h_n, zeros if d_c_n is None else d_c_n)
    return _stack_backward(cache, d_output, d_final, _lstm_direction_backward)


def gru_forward(
    x: np.ndarray,
    params: dict[str, np.ndarray],
    num_layers: int,
    bidirectional: bool = False,
    h0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, GRUCache]:
    """torch.nn.GRU(batch_first=True) forward: x (B, L, F) -> output (B, L, D*dirs), h_n, cache.

    params uses torch's state_dict keys (biases required). h0 and h_n are (layers*dirs, B, D), zero by default.
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h' = (1 - z) * n + z * h, as in torch.
    """
    _check_input(x)
    weights = _direction_weights(params, num_layers, bidirectional)
    initial = _initial_states(x, weights, [h0])
    output, (h_n,), caches = _stack_forward(x, weights, 2 if bidirectional else 1, initial, _gru_direction_forward)
    return output, h_n, GRUCache(num_layers, bidirectional, caches)


def gru_backward(
    cache: GRUCache, d_output: np.ndarray, d_h_n: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradients of a loss given its gradients on output (B, L, D*dirs) and optionally on h_n.

    Returns d_x (B, L, F) and a dict with the same keys as params. A missing d_h_n counts as zero.
    """
    d_final = (_zero_final_gradient(cache.directions, d_output.dtype) if d_h_n is None else d_h_n,)
    return _stack_backward(cache, d_output, d_final, _gru_direction_backward)
