"""`predict`: a loaded model + data -> the answer for the rows after the data's end: forecasts in
original units with future timestamps (`timestamp, step, <target>`), or a classifier's label ahead.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from forecast_cli.loaded import LoadedModel, Source


def predict(model: LoadedModel, data: Source | None, warn: Callable[[str], None]) -> pd.DataFrame:
    """Read `data` (default: the training data) and forecast after its last row."""
    frame, _, _ = model.read(data, warn, last_rows=model.manifest.window)  # a file's tail is enough
    return model.predictor.ahead(frame, model.manifest.frequency)
