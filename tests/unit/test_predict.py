"""forward.py and predictors.py: what the forward function receives, and how future timestamps are written."""

import numpy as np
import pandas as pd

from forecast_cli.data.frame import build_frame
from forecast_cli.forward import forward_windows
from forecast_cli.predictors import ValuePredictor
from forecast_cli.data.windows import Scaler

WINDOW, HORIZON = 5, 2


def _forward(seen: list, horizon: int = HORIZON):
    def forward(batch: np.ndarray) -> np.ndarray:
        seen.append(batch)
        return np.zeros((len(batch), horizon), dtype=np.float32)

    return forward


def _recording_predictor(seen: list, horizon: int = HORIZON) -> ValuePredictor:
    return ValuePredictor(_forward(seen, horizon), Scaler(np.zeros(1), np.ones(1)), WINDOW, horizon)


def test_forward_gets_writable_contiguous_windows_even_for_one_window():
    """A one-window view of a one-column series is contiguous but read-only; torch warns on such arrays."""
    seen: list = []
    scaled = np.arange(20, dtype=np.float32).reshape(20, 1)
    forward_windows(_forward(seen), scaled, np.array([20]), WINDOW, HORIZON)
    (batch,) = seen
    assert batch.flags.writeable and batch.flags.c_contiguous
    np.testing.assert_array_equal(batch[0, :, 0], scaled[15:, 0])


def _hourly_frame(last: str):
    stamps = pd.date_range(end=last, periods=30, freq="h")
    raw = pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M"), "value": np.linspace(1, 2, 30)})
    return build_frame(raw, "hourly.csv", "value", None, None, HORIZON)


def test_hourly_forecast_landing_on_midnight_keeps_its_time():
    """The next hour after 23:00 is midnight; written as a bare date it would read as a daily forecast."""
    frame = _hourly_frame("2014-12-31 23:00")
    ahead = _recording_predictor([], horizon=1).ahead(frame, frame.freq)
    assert list(ahead["timestamp"]) == ["2015-01-01 00:00:00"]
    ahead = _recording_predictor([], horizon=2).ahead(frame, frame.freq)
    assert list(ahead["timestamp"]) == ["2015-01-01 00:00:00", "2015-01-01 01:00:00"]


def test_daily_forecast_is_written_as_dates():
    raw = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=30).strftime("%Y-%m-%d"),
                        "value": np.linspace(1, 2, 30)})
    frame = build_frame(raw, "daily.csv", "value", None, None, HORIZON)
    ahead = _recording_predictor([]).ahead(frame, frame.freq)
    assert list(ahead["timestamp"]) == ["2020-01-31", "2020-02-01"]
