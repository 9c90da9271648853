"""Pins forecast_cli.nn.reference (NumPy LSTM/GRU) to torch.nn.LSTM / torch.nn.GRU and to central finite differences.

Relative error here is norm-based: ||a - b|| / max(||a|| + ||b||, 1e-12), one number per parameter tensor.
"""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from forecast_cli.nn import reference

# Torch comparison config: B=3, L=6, F=4, D=5, 2 layers.
BATCH, LENGTH, INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS = 3, 6, 4, 5, 2
DIRECTIONS = pytest.mark.parametrize("bidirectional", [False, True], ids=["unidirectional", "bidirectional"])


def _relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Norm-based, so one tolerance fits tensors of any size and scale."""
    denominator = max(float(np.linalg.norm(actual) + np.linalg.norm(expected)), 1e-12)
    return float(np.linalg.norm(actual - expected)) / denominator


def _state_count(bidirectional: bool) -> int:
    return NUM_LAYERS * (2 if bidirectional else 1)


def _trained_rnn(kind: str, bidirectional: bool, dtype: torch.dtype = torch.float64) -> torch.nn.Module:
    """A few Adam steps on random data move the weights off torch's init, so the comparison is not of a special case."""
    torch.manual_seed(0)
    rnn_class = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    rnn = rnn_class(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, batch_first=True, bidirectional=bidirectional, dtype=dtype)
    optimizer = torch.optim.Adam(rnn.parameters(), lr=0.05)
    inputs = torch.randn(8, LENGTH, INPUT_SIZE, dtype=dtype)
    targets = torch.randn(8, LENGTH, HIDDEN_SIZE * (2 if bidirectional else 1), dtype=dtype)
    for _ in range(5):
        optimizer.zero_grad()
        loss = ((rnn(inputs)[0] - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
    rnn.zero_grad(set_to_none=True)  # the comparison's backward must not add to the last training step's grads
    return rnn


def _numpy_params(rnn: torch.nn.Module) -> dict[str, np.ndarray]:
    return {name: tensor.detach().numpy().copy() for name, tensor in rnn.state_dict().items()}


def _random_states(kind: str, bidirectional: bool, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
    """Nonzero initial (or upstream) states: (h,) for the GRU, (h, c) for the LSTM, each (layers*dirs, B, D)."""
    count = 2 if kind == "lstm" else 1
    return tuple(torch.randn(_state_count(bidirectional), BATCH, HIDDEN_SIZE, dtype=dtype) for _ in range(count))


def _torch_forward(rnn: torch.nn.Module, kind: str, x: torch.Tensor, initial: tuple | None) -> tuple:
    """(output, final states as a tuple) whatever the kind, so LSTM and GRU tests share code."""
    if kind == "lstm":
        output, finals = rnn(x, initial)
        return output, finals
    output, h_n = rnn(x, None if initial is None else initial[0])
    return output, (h_n,)


def _reference_forward(kind: str, x: np.ndarray, params: dict, bidirectional: bool, initial: tuple | None) -> tuple:
    """(output, final states as a tuple, cache) from the module under test."""
    initial = (None, None) if initial is None else initial
    if kind == "lstm":
        output, finals, cache = reference.lstm_forward(x, params, NUM_LAYERS, bidirectional, *initial)
        return output, finals, cache
    output, h_n, cache = reference.gru_forward(x, params, NUM_LAYERS, bidirectional, initial[0])
    return output, (h_n,), cache


def _reference_backward(kind: str, cache: object, d_output: np.ndarray, d_finals: tuple) -> tuple:
    if kind == "lstm":
        return reference.lstm_backward(cache, d_output, *d_finals)
    return reference.gru_backward(cache, d_output, *d_finals)


def _check_forward_matches_torch(kind: str, bidirectional: bool, given_initial: bool) -> None:
    rnn = _trained_rnn(kind, bidirectional)
    x = torch.randn(BATCH, LENGTH, INPUT_SIZE, dtype=torch.float64)
    initial = _random_states(kind, bidirectional) if given_initial else None
    with torch.no_grad():
        expected_output, expected_finals = _torch_forward(rnn, kind, x, initial)
    numpy_initial = None if initial is None else tuple(state.numpy() for state in initial)
    output, finals, _ = _reference_forward(kind, x.numpy(), _numpy_params(rnn), bidirectional, numpy_initial)

    assert output.shape == (BATCH, LENGTH, HIDDEN_SIZE * (2 if bidirectional else 1))
    assert np.abs(output - expected_output.numpy()).max() < 1e-5
    for final, expected_final in zip(finals, expected_finals, strict=True):
        assert final.shape == (_state_count(bidirectional), BATCH, HIDDEN_SIZE)
        assert np.abs(final - expected_final.numpy()).max() < 1e-5


def _check_backward_matches_torch(kind: str, bidirectional: bool, state_gradients: bool) -> None:
    """Upstream gradients on the output (and, if asked, on every final state) against torch autograd."""
    rnn = _trained_rnn(kind, bidirectional)
    params = _numpy_params(rnn)
    x = torch.randn(BATCH, LENGTH, INPUT_SIZE, dtype=torch.float64, requires_grad=True)
    initial = _random_states(kind, bidirectional)
    output, finals = _torch_forward(rnn, kind, x, initial)
    d_output = torch.randn_like(output)
    d_finals = _random_states(kind, bidirectional) if state_gradients else ()
    loss = (output * d_output).sum() + sum((final * d_final).sum() for final, d_final in zip(finals, d_finals))
    loss.backward()

    numpy_initial = tuple(state.numpy() for state in initial)
    _, _, cache = _reference_forward(kind, x.detach().numpy(), params, bidirectional, numpy_initial)
    d_x, grads = _reference_backward(kind, cache, d_output.numpy(), tuple(d.numpy() for d in d_finals))

    assert set(grads) == set(params)
    assert _relative_error(d_x, x.grad.numpy()) < 1e-6
    for name, parameter in rnn.named_parameters():
        assert grads[name].shape == parameter.shape, name
        assert _relative_error(grads[name], parameter.grad.numpy()) < 1e-6, name


@DIRECTIONS
@pytest.mark.parametrize("given_initial", [False, True], ids=["zero_initial", "given_initial"])
def test_lstm_forward_matches_torch(bidirectional: bool, given_initial: bool) -> None:
    _check_forward_matches_torch("lstm", bidirectional, given_initial)


@DIRECTIONS
@pytest.mark.parametrize("given_initial", [False, True], ids=["zero_initial", "given_initial"])
def test_gru_forward_matches_torch(bidirectional: bool, given_initial: bool) -> None:
    _check_forward_matches_torch("gru", bidirectional, given_initial)


@DIRECTIONS
@pytest.mark.parametrize("state_gradients", [True, False], ids=["output_and_states", "output_only"])
def test_lstm_backward_matches_torch_autograd(bidirectional: bool, state_gradients: bool) -> None:
    _check_backward_matches_torch("lstm", bidirectional, state_gradients)


@DIRECTIONS
@pytest.mark.parametrize("state_gradients", [True, False], ids=["output_and_states", "output_only"])
def test_gru_backward_matches_torch_autograd(bidirectional: bool, state_gradients: bool) -> None:
    _check_backward_matches_torch("gru", bidirectional, state_gradients)


# --- finite differences on a small config, so every entry can be perturbed quickly --------------------------

SMALL_BATCH, SMALL_LENGTH, SMALL_INPUT, SMALL_HIDDEN, SMALL_LAYERS = 2, 4, 2, 3, 2
EPSILON = 1e-6


def _small_problem(kind: str, bidirectional: bool) -> dict:
    """Random float64 weights, input, nonzero initial states and loss weights for a 2-layer, D=3 network."""
    rng = np.random.default_rng(7)
    num_directions = 2 if bidirectional else 1
    gate_rows = (4 if kind == "lstm" else 3) * SMALL_HIDDEN
    params = {}
    for layer in range(SMALL_LAYERS):
        layer_input = SMALL_INPUT if layer == 0 else SMALL_HIDDEN * num_directions
        for suffix in [f"_l{layer}", f"_l{layer}_reverse"][:num_directions]:
            params[f"weight_ih{suffix}"] = rng.normal(0.0, 0.6, (gate_rows, layer_input))
            params[f"weight_hh{suffix}"] = rng.normal(0.0, 0.6, (gate_rows, SMALL_HIDDEN))
            params[f"bias_ih{suffix}"] = rng.normal(0.0, 0.3, gate_rows)
            params[f"bias_hh{suffix}"] = rng.normal(0.0, 0.3, gate_rows)
    state_shape = (SMALL_LAYERS * num_directions, SMALL_BATCH, SMALL_HIDDEN)
    state_count = 2 if kind == "lstm" else 1
    return {
        "params": params,
        "x": rng.normal(size=(SMALL_BATCH, SMALL_LENGTH, SMALL_INPUT)),
        "initial": tuple(rng.normal(0.0, 0.5, state_shape) for _ in range(state_count)),
        "d_output": rng.normal(size=(SMALL_BATCH, SMALL_LENGTH, SMALL_HIDDEN * num_directions)),
        "d_finals": tuple(rng.normal(size=state_shape) for _ in range(state_count)),  # K for h_n (and c_n)
    }


def _small_forward(kind: str, x: np.ndarray, params: dict, bidirectional: bool, initial: tuple) -> tuple:
    if kind == "lstm":
        output, finals, cache = reference.lstm_forward(x, params, SMALL_LAYERS, bidirectional, *initial)
        return output, finals, cache
    output, h_n, cache = reference.gru_forward(x, params, SMALL_LAYERS, bidirectional, initial[0])
    return output, (h_n,), cache


def _small_loss(kind: str, problem: dict, bidirectional: bool) -> float:
    """sum(output * G) + sum(h_n * K) (+ sum(c_n * M) for the LSTM): its gradient is the one backward computes."""
    output, finals, _ = _small_forward(kind, problem["x"], problem["params"], bidirectional, problem["initial"])
    state_terms = sum(float((final * d_final).sum()) for final, d_final in zip(finals, problem["d_finals"]))
    return float((output * problem["d_output"]).sum()) + state_terms


def _central_difference(kind: str, problem: dict, bidirectional: bool, array: np.ndarray) -> np.ndarray:
    """Perturb every entry of `array` in place (it is one of problem's arrays) and restore it."""
    numeric = np.empty_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + EPSILON
        plus = _small_loss(kind, problem, bidirectional)
        array[index] = original - EPSILON
        minus = _small_loss(kind, problem, bidirectional)
        array[index] = original
        numeric[index] = (plus - minus) / (2 * EPSILON)
    return numeric


def _check_gradients_match_finite_differences(kind: str, bidirectional: bool) -> None:
    problem = _small_problem(kind, bidirectional)
    _, _, cache = _small_forward(kind, problem["x"], problem["params"], bidirectional, problem["initial"])
    d_x, grads = _reference_backward(kind, cache, problem["d_output"], problem["d_finals"])

    assert set(grads) == set(problem["params"])
    assert _relative_error(d_x, _central_difference(kind, problem, bidirectional, problem["x"])) < 1e-6
    for name, parameter in problem["params"].items():
        numeric = _central_difference(kind, problem, bidirectional, parameter)
        assert _relative_error(grads[name], numeric) < 1e-6, name


@DIRECTIONS
def test_lstm_gradients_match_finite_differences(bidirectional: bool) -> None:
    _check_gradients_match_finite_differences("lstm", bidirectional)


@DIRECTIONS
def test_gru_gradients_match_finite_differences(bidirectional: bool) -> None:
    _check_gradients_match_finite_differences("gru", bidirectional)


# --- dtype and dependency contract ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_float32_inputs_stay_float32(kind: str) -> None:
    """Inference runs in float32; a silent upcast would double memory and drift from the torch model."""
    rnn = _trained_rnn(kind, bidirectional=True, dtype=torch.float32)
    x = torch.randn(BATCH, LENGTH, INPUT_SIZE, dtype=torch.float32)
    with torch.no_grad():
        expected_output, _ = _torch_forward(rnn, kind, x, None)
    output, finals, cache = _reference_forward(kind, x.numpy(), _numpy_params(rnn), True, None)
    d_x, grads = _reference_backward(kind, cache, np.ones_like(output), ())

    assert output.dtype == np.float32
    assert all(final.dtype == np.float32 for final in finals)
    assert d_x.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in grads.values())
    assert np.abs(output - expected_output.numpy()).max() < 1e-5


def test_reference_imports_numpy_only() -> None:
    """Other code loads this module where torch and pandas are absent; only numpy and the stdlib may be imported."""
    tree = ast.parse(Path(reference.__file__).read_text())
    nodes = list(ast.walk(tree))
    imported = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in nodes if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "collections", "dataclasses", "typing", "numpy"}, imported
