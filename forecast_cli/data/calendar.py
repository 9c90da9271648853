"""Calendar covariates (`--calendar auto`): sine/cosine pairs of hour of day, day of week, day of year and
month, those that vary at the data's frequency, computed from the timestamps alone.

They are known for future steps, so each row carries the calendar of the timestamp `horizon` steps
after it: a window's last row then carries the last target timestamp's calendar, and its last
`horizon` rows the calendars of all H target timestamps (when --window is at least --horizon). The
network therefore reads the horizon's own timestamps through its ordinary inputs, in both engines,
and predict needs nothing but the frequency to compute them (rows past the data's end are never
needed: a row's lead timestamp is its own shifted by H steps). The columns come after the frame's own
inputs (target first, then features and categories), so they are never made relative to the window's
last row; the scaler z-scores them like any input. Never imports torch.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from forecast_cli.data.frame import Frame

CALENDAR_MODES = ("auto", "off")
PREFIX = "calendar:"  # column names `calendar:hour_sin` ...: a colon no CSV header of the tests uses
SUB_DAILY = {"Hour", "Minute", "Second", "Milli", "Micro", "Nano", "BusinessHour", "CustomBusinessHour"}
DAILY = {"Day", "BusinessDay", "CustomBusinessDay"}
DAY_NS = 86_400 * 10**9
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0, as pandas counts)
MONTHLY = {"MonthBegin", "MonthEnd", "BusinessMonthBegin", "BusinessMonthEnd", "SemiMonthBegin", "SemiMonthEnd",
           "QuarterBegin", "QuarterEnd", "BusinessQuarterBegin", "BusinessQuarterEnd"}


def calendar_parts(mode: str, freq: str | None) -> tuple[str, ...]:
    """The calendar parts that vary at `freq` ('hour', 'dayofweek', 'dayofyear', 'month'); none with
    mode 'off', without a frequency, or at a yearly one."""
    if mode != "auto" or not freq:
        return ()
    offset = pd.tseries.frequencies.to_offset(freq)
    kind = type(offset).__name__
    if kind in SUB_DAILY:
        return ("hour", "dayofweek", "dayofyear")
    if kind in DAILY:
        whole_weeks = kind == "Day" and offset.n % 7 == 0
        return ("dayofyear",) if whole_weeks else ("dayofweek", "dayofyear")
    if kind == "Week":
        return ("dayofyear",)
    if kind in MONTHLY:
        return ("month",)
    return ()


def calendar_width(mode: str, freq: str | None) -> int:
    """How many input columns the calendar adds: two per part."""
    return 2 * len(calendar_parts(mode, freq))


def calendar_columns(mode: str, freq: str | None) -> list[str]:
    return [f"{PREFIX}{part}_{wave}" for part in calendar_parts(mode, freq) for wave in ("sin", "cos")]


def phases(stamps: pd.DatetimeIndex, part: str) -> np.ndarray:
    """Where each timestamp lies in the part's cycle, as a float64 fraction in [0, 1). Hour of day and day
    of week come from the nanosecond count itself (integer arithmetic, no field extraction per row)."""
    if part in ("hour", "dayofweek"):
        wall = stamps.tz_localize(None) if stamps.tz is not None else stamps  # the clock's time, as .hour reads it
        days, within = np.divmod(wall.as_unit("ns").asi8, DAY_NS)  # floor division: right before 1970 too
        if part == "hour":
            return within / DAY_NS
        return np.remainder(days + EPOCH_WEEKDAY, 7) / 7
    if part == "dayofyear":
        return (np.asarray(stamps.day_of_year) - 1) / np.where(stamps.is_leap_year, 366, 365)
    return (np.asarray(stamps.month) - 1) / 12


def calendar_values(index: pd.DatetimeIndex, mode: str, freq: str | None, lead: int) -> np.ndarray:
    """(T, 2P) float32: sin and cos of each part's phase at each row's timestamp + `lead` steps of `freq`.
    Written column by column into one Fortran-ordered array: a DataFrame takes it without a copy, and
    float32 is what the tensors hold (float64 columns stacked cost fit a second per 3M rows)."""
    parts = calendar_parts(mode, freq)
    values = np.empty((len(index), 2 * len(parts)), dtype=np.float32, order="F")
    if not parts:
        return values
    with warnings.catch_warnings():  # monthly offsets are applied element by element: pandas warns
        warnings.simplefilter("ignore")
        stamps = index.shift(lead, freq=freq)
    for position, part in enumerate(parts):
        angle = (2 * np.pi * phases(stamps, part)).astype(np.float32)
        np.sin(angle, out=values[:, 2 * position])
        np.cos(angle, out=values[:, 2 * position + 1])
    return values


def with_calendar(frame: Frame, mode: str, freq: str | None, lead: int) -> Frame:
    """The frame with its calendar columns appended (the same frame when there are none, or the data
    has no timestamps)."""
    columns = calendar_columns(mode, freq)
    if not columns or not isinstance(frame.data.index, pd.DatetimeIndex):
        return frame
    values = calendar_values(frame.data.index, mode, freq, lead)
    data = pd.concat([frame.data, pd.DataFrame(values, index=frame.data.index, columns=columns)], axis=1)
    return replace(frame, data=data)
