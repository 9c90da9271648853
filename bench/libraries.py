"""NeuralForecast's and Darts' LSTMs at the same size on the same z-scored series (`pip install
'.[bench]'`); each is skipped with a line when not installed or when it fails.

Both train through PyTorch Lightning. A callback stamps the end of every training batch, so the
figures are medians of batch-to-batch intervals (data loading and window building included, set-up
and the first batch left out); origins/s = windows per batch / that interval. Their test MSE is not
computed here (their backtest APIs cost more than the training measured).
"""

from __future__ import annotations

import math
import time

import numpy as np

from bench.training import Size, Trained


def _timer():
    """A Lightning callback recording (wall, CPU) at every batch end."""
    from pytorch_lightning import Callback

    class BatchTimer(Callback):
        def __init__(self) -> None:
            self.marks: list[tuple[float, float]] = []

        def __deepcopy__(self, memo) -> "BatchTimer":
            return self  # NeuralForecast deep-copies its models, callbacks included: keep one set of marks

        def on_train_batch_end(self, *args, **kwargs) -> None:
            self.marks.append((time.perf_counter(), time.process_time()))

    return BatchTimer()


def _result(name: str, timer, per_batch: int, origins: int) -> Trained:
    marks = np.array(timer.marks[1:])  # the first batch carries set-up
    wall, cpu = (float(np.median(np.diff(marks[:, column]))) for column in (0, 1))
    batches = origins / per_batch
    return Trained(name, origins, wall * batches, cpu * batches, None, "per-batch medians; test MSE not computed")


LIGHTNING = {"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False, "logger": False,
             "enable_checkpointing": False}


def neuralforecast_lstm(prep, size: Size, epochs: int) -> Trained:
    import pandas as pd
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    values = prep.data.values[: prep.splits.train_end]
    exog = [f"x{i}" for i in range(1, values.shape[1])]
    frame = pd.DataFrame({"unique_id": "series", "ds": np.arange(len(values)), "y": values[:, 0],
                          **{name: values[:, i + 1] for i, name in enumerate(exog)}})
    origins = len(values) - size.window
    timer = _timer()
    model = LSTM(h=1, input_size=size.window, encoder_hidden_size=size.hidden, encoder_n_layers=size.layers,
                 hist_exog_list=exog, windows_batch_size=size.batch, batch_size=1, learning_rate=0.002,
                 max_steps=max(10, epochs * math.ceil(origins / size.batch)), scaler_type=None, random_seed=0,
                 callbacks=[timer], **LIGHTNING)
    NeuralForecast(models=[model], freq=1).fit(frame)
    return _result("NeuralForecast LSTM", timer, size.batch, origins)


def darts_lstm(prep, size: Size, epochs: int) -> Trained:
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    values = prep.data.values[: prep.splits.train_end].astype(np.float32)
    timer = _timer()
    model = BlockRNNModel(input_chunk_length=size.window, output_chunk_length=1, model="LSTM", hidden_dim=size.hidden,
                          n_rnn_layers=size.layers, batch_size=size.batch, n_epochs=epochs, random_state=0,
                          optimizer_kwargs={"lr": 0.002}, pl_trainer_kwargs={**LIGHTNING, "callbacks": [timer]})
    covariates = TimeSeries.from_values(values[:, 1:]) if values.shape[1] > 1 else None
    model.fit(TimeSeries.from_values(values[:, :1]), past_covariates=covariates, verbose=False)
    return _result("Darts BlockRNNModel LSTM", timer, size.batch, len(values) - size.window)


def run_all(prep, size: Size, epochs: int) -> list[Trained | str]:
    """Each library's result, or a line saying why it was skipped."""
    results: list[Trained | str] = []
    for name, module, trainer in (("NeuralForecast", "neuralforecast", neuralforecast_lstm),
                                  ("Darts", "darts", darts_lstm)):
        try:
            __import__(module)
        except ImportError:
            results.append(f"{name} not installed (pip install '.[bench]')")
            continue
        try:
            results.append(trainer(prep, size, epochs))
        except Exception as exc:  # a library's API drifting must not end the whole benchmark
            results.append(f"{name} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    return results
