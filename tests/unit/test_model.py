"""model.py: output shapes, and the window normalization's starting point (exactly the naive forecast)."""

import pytest
import torch

from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec

BATCH, WINDOW, FEATURES, HORIZON = 5, 9, 3, 4


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_output_shape_is_batch_by_horizon(cell, layers, bidirectional):
    torch.manual_seed(0)
    model = Forecaster(ModelSpec(FEATURES, HORIZON, cell, hidden_size=8, num_layers=layers,
                                 bidirectional=bidirectional))
    assert model(torch.randn(BATCH, WINDOW, FEATURES)).shape == (BATCH, HORIZON)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("relative", [1, 2])
def test_fresh_relative_model_forecasts_the_last_target_value(cell, relative):
    torch.manual_seed(0)
    model = Forecaster(ModelSpec(FEATURES, HORIZON, cell, hidden_size=8, relative=relative)).eval()
    x = torch.randn(BATCH, WINDOW, FEATURES)
    with torch.no_grad():
        forecast = model(x)
    assert torch.equal(forecast, x[:, -1, :1].expand(BATCH, HORIZON))


def test_fresh_plain_model_does_not_forecast_the_last_value():
    """The contrast that makes the test above mean something: without `relative` nothing anchors the output."""
    torch.manual_seed(0)
    model = Forecaster(ModelSpec(FEATURES, HORIZON, hidden_size=8)).eval()
    x = torch.randn(BATCH, WINDOW, FEATURES)
    with torch.no_grad():
        assert not torch.allclose(model(x), x[:, -1, :1].expand(BATCH, HORIZON))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_forking_chunk_forecasts_equal_the_window_forward_on_the_rows_before_each_origin(cell, layers):
    """What makes forking training and predict agree: output p of a chunk is `forward` on its first W + p rows."""
    torch.manual_seed(0)
    spec = ModelSpec(FEATURES, HORIZON, cell, hidden_size=8, num_layers=layers, relative=2, differences=(0.5, 2.0))
    model = Forecaster(spec).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.4)
        chunk = torch.randn(BATCH, 3 * WINDOW, FEATURES)
        forecasts = model.forward_chunk(chunk, WINDOW)  # (B, P, H)
        assert forecasts.shape == (BATCH, 2 * WINDOW + 1, HORIZON)
        for p in (0, 5, 2 * WINDOW):
            torch.testing.assert_close(forecasts[:, p], model(chunk[:, : WINDOW + p]), rtol=0, atol=1e-5)


def test_fresh_forking_model_forecasts_the_last_target_value():
    torch.manual_seed(0)
    model = Forecaster(ModelSpec(FEATURES, HORIZON, hidden_size=8, relative=2, differences=(0.5, 2.0))).eval()
    chunk = torch.randn(BATCH, 3 * WINDOW, FEATURES)
    with torch.no_grad():
        forecasts = model.forward_chunk(chunk, WINDOW)
    assert torch.equal(forecasts, chunk[:, WINDOW - 1:, :1].expand(-1, -1, HORIZON))
