"""The seq2seq decoder: starts from the encoder's state, feeds each step its own previous output."""

import pytest
import torch

from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec, decoder_record


def _seq2seq(cell: str, **options) -> Forecaster:
    torch.manual_seed(0)
    return Forecaster(ModelSpec(n_features=2, horizon=5, cell=cell, hidden_size=6, decoder="seq2seq", **options))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_seq2seq_starts_as_the_naive_forecast_under_window_norm(cell: str) -> None:
    model = _seq2seq(cell, relative=2, bidirectional=True).eval()
    windows = torch.randn(4, 8, 2)  # (B, L, F)
    with torch.no_grad():
        forecast = model(windows)
    assert torch.equal(forecast, windows[:, -1, :1].expand(4, 5))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_seq2seq_feeds_each_step_its_own_previous_output(cell: str) -> None:
    model = _seq2seq(cell, num_layers=2, bidirectional=True).eval()
    seen = []  # (input (B, 1, 1), initial state) of every decoder step
    model.decoder.cell.register_forward_hook(lambda module, args, output: seen.append((args[0], args[1])))
    windows = torch.randn(3, 8, 2)
    with torch.no_grad():
        forecast = model(windows)  # (B, H)
    assert len(seen) == 5
    assert torch.equal(seen[0][0][:, 0, 0], windows[:, -1, 0])  # start token: the last observed target z-score
    for step in range(1, 5):
        assert torch.equal(seen[step][0][:, 0, 0], forecast[:, step - 1])
    first_state = seen[0][1][0] if cell == "lstm" else seen[0][1]
    assert first_state.shape == (2, 3, 6)  # two directions mapped to the decoder's (N, B, D)


def test_seq2seq_record_says_training_is_free_running() -> None:
    record = decoder_record(ModelSpec(n_features=1, horizon=3, decoder="seq2seq", relative=1))
    assert record["kind"] == "seq2seq" and record["teacher_forcing"] is False
    assert decoder_record(ModelSpec(n_features=1, horizon=3)) == {"kind": "direct"}
