"""train.py's forking chunks: every origin trained once, targets from the right rows, burn-in without loss."""

import numpy as np
import pytest
import torch

from forecast_cli.nn.train import ChunkSource, TrainingData


def _data(rows: int, window: int, horizon: int) -> TrainingData:
    values = np.arange(rows, dtype=np.float32)[:, None]  # (T, 1): each row holds its own number
    return TrainingData(values, values[:, 0].copy(), np.arange(0), np.arange(0), window, horizon)


@pytest.mark.parametrize("first, last, chunk", [(10, 200, 40), (10, 49, 40), (10, 12, 40), (60, 200, 33)])
def test_chunks_cover_every_origin_once(first, last, chunk):
    window, horizon = 10, 3
    source = ChunkSource(_data(last + horizon, window, horizon), np.arange(first, last + 1), chunk, torch.device("cpu"))
    origins = source.starts[:, None] + source.steps  # (K, P)
    covered = origins[source.mask].tolist()
    assert sorted(covered) == list(range(first, last + 1))
    assert int(source.starts.min()) == first - window  # the first origin still gets a full burn-in


def test_chunk_targets_are_the_rows_after_each_origin():
    window, horizon = 4, 2
    source = ChunkSource(_data(40, window, horizon), np.arange(window, 38), 12, torch.device("cpu"))

    class LastValue(torch.nn.Module):
        """Forecasts the origin's last row: its loss is known for every origin (rows hold their index)."""

        def forward_chunk(self, x, burn_in):
            return x[:, burn_in - 1:, :1].expand(-1, -1, horizon)

    losses = source.losses(LastValue(), source.items)  # targets t, t+1 against forecast t-1: errors 1 and 2
    assert losses.shape == (38 - window,)
    torch.testing.assert_close(losses, torch.full_like(losses, (1 + 4) / 2))
