"""forecast: turn a time-ordered CSV into a trained LSTM/GRU forecaster.

Kept import-light on purpose: `forecast --help` must not pay for torch or pandas.
"""

__version__ = "0.1.0"
