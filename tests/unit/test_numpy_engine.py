"""Pins numpy_engine (predict --engine numpy) to model.Forecaster, the torch module it mirrors."""

import numpy as np
import pytest
import torch

from forecast_cli.errors import ArtifactError
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec
from forecast_cli.forward import build_forward
from forecast_cli.nn.numpy_engine import numpy_forward
from conftest import random_forecaster as _random_model

SHAPES = {"plain": {}, "bidirectional": {"bidirectional": True}, "two_layers": {"num_layers": 2},
          "bidirectional_two_layers": {"bidirectional": True, "num_layers": 2}}


def _numpy_weights(model: Forecaster) -> dict[str, np.ndarray]:
    return {name: tensor.detach().numpy().copy() for name, tensor in model.state_dict().items()}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("relative", [0, 2], ids=["global_norm", "window_norm"])
@pytest.mark.parametrize("decoder", ["direct", "seq2seq"])
def test_numpy_engine_matches_torch_forecaster(cell: str, shape: str, relative: int, decoder: str) -> None:
    spec = ModelSpec(n_features=3, horizon=4, cell=cell, hidden_size=6, relative=relative, decoder=decoder,
                     **SHAPES[shape])
    model = _random_model(spec)
    windows = np.random.default_rng(1).normal(size=(5, 7, 3)).astype(np.float32)  # (B, L, F)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    actual = numpy_forward(spec, _numpy_weights(model))(windows)
    assert actual.shape == (5, 4)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


def test_numpy_engine_refuses_weights_of_another_shape() -> None:
    spec = ModelSpec(n_features=2, horizon=1, cell="gru", hidden_size=4)
    weights = _numpy_weights(_random_model(spec))
    weights["head.weight"] = np.zeros((1, 5), dtype=np.float32)
    with pytest.raises(ArtifactError, match=r"tensor 'head.weight' has shape \[1, 5\] but the manifest's model needs \[1, 4\]"):
        build_forward(spec, weights, "numpy")


def test_numpy_engine_refuses_missing_weights() -> None:
    spec = ModelSpec(n_features=2, horizon=1, cell="lstm", hidden_size=4, num_layers=2)
    weights = _numpy_weights(_random_model(spec))
    del weights["encoder.weight_hh_l1"]
    with pytest.raises(ArtifactError, match="lack tensor 'encoder.weight_hh_l1'"):
        build_forward(spec, weights, "numpy")


@pytest.mark.parametrize("engine", ["numpy", "torch"])
@pytest.mark.parametrize("damage, needle", [
    (lambda array: array.astype(np.int32), "holds int32, not floating-point numbers"),
    (lambda array: np.full_like(array, np.nan), "holds NaN or infinite values"),
    (lambda array: np.where(np.arange(array.size).reshape(array.shape) == 0, np.inf, array).astype(array.dtype),
     "holds NaN or infinite values"),
])
def test_both_engines_refuse_the_same_damaged_weights(engine: str, damage, needle: str) -> None:
    import torch

    spec = ModelSpec(n_features=2, horizon=1, cell="gru", hidden_size=4)
    weights = _numpy_weights(_random_model(spec))
    weights["head.bias"] = damage(weights["head.bias"])
    if engine == "torch":
        weights = {name: torch.from_numpy(array) for name, array in weights.items()}
    with pytest.raises(ArtifactError, match=needle):
        build_forward(spec, weights, engine)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numpy_engine_matches_torch_classifier_logits(cell: str) -> None:
    spec = ModelSpec(n_features=2, horizon=3, cell=cell, hidden_size=5, bidirectional=True, relative=2,
                     task="classify", n_classes=3)
    model = _random_model(spec)
    windows = np.random.default_rng(2).normal(size=(4, 6, 2)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    actual = numpy_forward(spec, _numpy_weights(model))(windows)
    assert actual.shape == (4, 3)  # logits per class, no anchor added back
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_numpy_engine_matches_torch_for_a_forking_model(cell: str, layers: int) -> None:
    """Forking training's inputs: the relative columns as scaled differences from the previous row."""
    spec = ModelSpec(n_features=3, horizon=4, cell=cell, hidden_size=6, num_layers=layers, relative=2,
                     differences=(0.3, 1.7))
    model = _random_model(spec)
    windows = np.random.default_rng(2).normal(size=(5, 7, 3)).astype(np.float32)  # (B, L, F)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    actual = numpy_forward(spec, _numpy_weights(model))(windows)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("relative", [0, 2], ids=["global_norm", "window_norm"])
@pytest.mark.parametrize("differences", [(), (0.5, 2.0)], ids=["last_value", "differences"])
def test_numpy_engine_matches_torch_linear_cell(relative: int, differences: tuple) -> None:
    spec = ModelSpec(n_features=3, horizon=4, cell="linear", relative=relative, window=7,
                     differences=differences if relative else ())
    model = _random_model(spec)
    windows = np.random.default_rng(2).normal(size=(5, 7, 3)).astype(np.float32)  # (B, L, F)
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    actual = numpy_forward(spec, _numpy_weights(model))(windows)
    assert actual.shape == (5, 4)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


def test_linear_cell_starts_as_the_naive_forecast_under_window_norm() -> None:
    spec = ModelSpec(n_features=2, horizon=3, cell="linear", relative=2, window=5)
    windows = np.random.default_rng(3).normal(size=(4, 5, 2)).astype(np.float32)
    with torch.no_grad():
        output = Forecaster(spec)(torch.from_numpy(windows)).numpy()
    np.testing.assert_allclose(output, np.repeat(windows[:, -1, :1], 3, axis=1), atol=1e-7)


def test_linear_cell_weights_are_the_spec_shapes() -> None:
    from forecast_cli.nn.spec import expected_shapes

    spec = ModelSpec(n_features=3, horizon=4, cell="linear", window=7)
    assert expected_shapes(spec) == {"head.weight": (4, 21), "head.bias": (4,)}
    assert {name: tuple(t.shape) for name, t in Forecaster(spec).state_dict().items()} == expected_shapes(spec)


EMBEDDED = {"lstm": {"cell": "lstm"}, "gru_bidirectional": {"cell": "gru", "bidirectional": True},
            "seq2seq": {"cell": "lstm", "decoder": "seq2seq"}, "highway": {"cell": "gru", "highway": True},
            "linear": {"cell": "linear"}, "baseline": {"cell": "lstm", "id_embedding": 0}}


@pytest.mark.parametrize("shape", EMBEDDED, ids=list(EMBEDDED))
def test_numpy_engine_matches_torch_with_a_series_embedding(shape: str) -> None:
    """Windows of F inputs plus a last column holding the series' code: both engines split it off and
    embed it alike (id_embedding 0 with n_series: the linear baseline, which only drops the column)."""
    from forecast_cli.nn.spec import expected_shapes

    options = {"id_embedding": 2, **EMBEDDED[shape]}
    spec = ModelSpec(n_features=3, horizon=4, hidden_size=6, relative=2, window=7, n_series=5, **options)
    model = _random_model(spec)
    assert {name: tuple(t.shape) for name, t in model.state_dict().items()} == expected_shapes(spec)
    windows = np.random.default_rng(4).normal(size=(6, 7, 4)).astype(np.float32)  # (B, L, F + 1)
    windows[:, :, -1] = np.array([0, 1, 2, 3, 4, 1], dtype=np.float32)[:, None]  # each window's series code
    with torch.no_grad():
        expected = model(torch.from_numpy(windows)).numpy()
    actual = numpy_forward(spec, _numpy_weights(model))(windows)
    assert actual.shape == (6, 4)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)
    if spec.id_embedding:  # the same inputs read as another series forecast differently
        other = windows.copy()
        other[:, :, -1] = (other[:, :, -1] + 1) % 5
        with torch.no_grad():
            assert not np.allclose(model(torch.from_numpy(other)).numpy(), expected)
