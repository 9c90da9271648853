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
