"""forecast: turn a time-ordered CSV (or a pandas DataFrame) into a trained LSTM/GRU forecaster.

The public Python API (the CLI is a thin shell over it):

    import forecast_cli
    model = forecast_cli.fit("prices.csv", target="close", horizon=5, epochs=20)
    model.predict()          # DataFrame: timestamp, step, close
    model.evaluate()         # dict: what `forecast evaluate --json` prints
    model.plot("f.png"); model.save("forecast_model")
    forecast_cli.backtest("prices.csv", target="close", folds=5)   # dict: `forecast backtest --json`
    forecast_cli.load("forecast_model").predict()

Kept import-light on purpose: `fit`, `load` and `Model` are loaded on first use (PEP 562), so
`import forecast_cli` and `forecast --help` do not pay for torch or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecast_cli.version import __version__

__all__ = ["fit", "backtest", "load", "Model", "ForecastWarning", "__version__"]

if TYPE_CHECKING:
    from forecast_cli.api import ForecastWarning, Model, backtest, fit, load


def __getattr__(name: str) -> Any:
    if name in ("fit", "backtest", "load", "Model", "ForecastWarning"):
        from forecast_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'forecast_cli' has no attribute {name!r}")
