"""`predict`: a loaded model + data -> the answer for the rows after the data's end: forecasts in
original units with future timestamps (`timestamp, step, <target>`), or a classifier's label ahead.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from forecast_cli.errors import ConfigError
from forecast_cli.loaded import LoadedModel, Source
from forecast_cli.many import forecasts_ahead


def predict(model: LoadedModel, data: Source | None, warn: Callable[[str], None],
            ids: list[str] | None = None) -> pd.DataFrame:
    """Read `data` (default: the training data) and forecast after its last row; a many-series model
    forecasts each series (or those named in `ids`) after its own last row."""
    if model.series is not None:
        panel, table, _ = model.read_panel(data, warn)
        panel = panel.select(ids, table.name)
        manifest = model.manifest
        return forecasts_ahead(panel, model.series, model.forward_of_series(), manifest.window, manifest.horizon,
                               warn, table.name)
    refuse_ids(ids)
    frame, _, _ = model.read(data, warn, last_rows=model.manifest.window)  # a file's tail is enough
    return model.predictor.ahead(frame, model.manifest.frequency)


def refuse_ids(ids: list[str] | None) -> None:
    """--ids names series of a many-series model; a one-series model has none to pick."""
    if ids:
        raise ConfigError("--ids picks series of a model fitted with --id-col; this model forecasts one series. "
                          "Leave out --ids.")
