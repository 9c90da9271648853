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

`--calendar auto` keeps only the parts whose cycle the training part covers at least MIN_CYCLES times and
the training target's autocorrelation confirms, as it confirms a season (resolve_calendar); the manifest
stores the parts kept (`hour,dayofweek`), never `auto`. A cycle seen less than twice is a position in time
to the network, not a cycle: on an hourly sine of 40 training days, day of year rose steadily through the
training part and not beyond it, the network fitted the training rows by it (train loss 0.004, validation
0.11) and its test MASE at horizon 24 was 3.81 against 0.43 without it. A calendar cycle the target does
not follow is noise it can fit: an hourly series with a 50-hour cycle lost 22% of its MASE at horizon 24
to hour and day of week. A manifest that says `auto` (saved before) means every part of its frequency.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from forecast_cli.data.frame import Frame
from forecast_cli.data.season import THRESHOLD, seasonal_autocorrelation
from forecast_cli.config import parse_calendar
from forecast_cli.errors import ConfigError

CALENDAR_MODES = ("auto", "off")
CYCLES = {"hour": pd.Timedelta(days=1), "dayofweek": pd.Timedelta(days=7), "dayofyear": pd.Timedelta(days=365.25),
          "month": pd.Timedelta(days=365.25)}
MIN_CYCLES = 2  # times the training rows must cover a part's cycle for `auto` to keep it
SLACK = 0.99  # 24 monthly rows cover two years though months vary in length: 1% short still counts
PREFIX = "calendar:"  # column names `calendar:hour_sin` ...: a colon no CSV header of the tests uses
SUB_DAILY = {"Hour", "Minute", "Second", "Milli", "Micro", "Nano", "BusinessHour", "CustomBusinessHour"}
DAILY = {"Day", "BusinessDay", "CustomBusinessDay"}
DAY_NS = 86_400 * 10**9
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0, as pandas counts)
BLOCK_ROWS = 1 << 16  # rows whose calendar is computed at a time
MONTHLY = {"MonthBegin", "MonthEnd", "BusinessMonthBegin", "BusinessMonthEnd", "SemiMonthBegin", "SemiMonthEnd",
           "QuarterBegin", "QuarterEnd", "BusinessQuarterBegin", "BusinessQuarterEnd"}


def calendar_parts(mode: str, freq: str | None) -> tuple[str, ...]:
    """The calendar parts of `mode` at `freq`: those named ('hour,dayofweek', as a manifest stores them),
    or with 'auto' (a manifest saved before parts were stored) every part that varies at `freq`; none with
    'off' or without a frequency."""
    if mode == "off" or not freq:
        return ()
    if mode != "auto":
        return tuple(mode.split(","))
    return frequency_parts(freq)


def frequency_parts(freq: str) -> tuple[str, ...]:
    """The calendar parts that vary at `freq` ('hour', 'dayofweek', 'dayofyear', 'month'); none at a
    yearly one."""
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


def resolve_calendar(mode: str, freq: str | None, train_index, train_target=None) -> tuple[str, dict]:
    """--calendar -> what the manifest stores ('off' or the parts, 'hour,dayofweek') and the choice's record.
    `auto`: the parts that vary at `freq`, whose cycle `train_index` (the training part's timestamps) covers
    MIN_CYCLES times and, given `train_target` (its values), whose period in rows the target's detrended
    autocorrelation confirms as it does a season (data/season.py, at least its THRESHOLD); parts given must
    vary at `freq` (one ConfigError line otherwise)."""
    mode = parse_calendar(mode)
    timed = bool(freq) and isinstance(train_index, pd.DatetimeIndex)
    varying = frequency_parts(freq) if timed else ()
    if mode not in CALENDAR_MODES and not timed:
        raise ConfigError(f"--calendar {mode}: the data has no timestamps at a regular frequency to compute them "
                          "from; use --calendar off (or auto).")
    if mode != "auto":
        still = [part for part in calendar_parts(mode, freq) if part not in varying]
        if still:
            verb = "does" if len(still) == 1 else "do"
            raise ConfigError(f"--calendar {mode}: {', '.join(still)} {verb} not change between rows of this {freq} "
                              f"data; choose from {', '.join(varying) or 'none (use off)'}.")
        return mode, {"chosen": mode, "reason": "given by --calendar"}
    if not timed:
        return "off", {"chosen": "off", "reason": "no timestamps at a regular frequency"}
    span = _covered(train_index)
    short = [part for part in varying if span < SLACK * MIN_CYCLES * CYCLES[part]]
    scores = {} if train_target is None else {
        part: _cycle_score(train_target, CYCLES[part] / (span / len(train_index)))
        for part in varying if part not in short}
    weak = [part for part, score in scores.items() if score is None or score < THRESHOLD]
    kept = [part for part in varying if part not in short and part not in weak]
    chosen = ",".join(kept) or "off"
    shown_scores = {part: None if score is None else round(score, 3) for part, score in scores.items()}
    record = {"chosen": chosen, **({"autocorrelation": shown_scores} if scores else {})}
    if not short and not weak:
        reason = f"the parts that vary at frequency {freq}" if kept else f"no part varies at frequency {freq}"
        return chosen, {**record, "reason": reason}
    return chosen, {**record, "left_out": short + weak, "reason": _left_out(short, span, weak, shown_scores)}


def _left_out(short: list[str], span: pd.Timedelta, weak: list[str], scores: dict) -> str:
    """Why `auto` left parts out, in words: too short a training part, or no autocorrelation at the period."""
    reasons = []
    if short:
        reasons.append(f"{' and '.join(short)} left out: the training part covers {_days(span)}, under "
                       f"{MIN_CYCLES} of {'its cycles' if len(short) == 1 else 'their cycles'}")
    if weak:
        shown = ", ".join(f"{part} {'-' if scores[part] is None else scores[part]}" for part in weak)
        reasons.append(f"{' and '.join(weak)} left out: the training target's autocorrelation at "
                       f"{'its period' if len(weak) == 1 else 'their periods'} is under {THRESHOLD} ({shown})")
    return "; ".join(reasons)


def _cycle_score(train_target, rows: float) -> float | None:
    """The target's seasonal autocorrelation (data/season.py) at a cycle of `rows` rows; None where the
    cycle is under two rows or the target too short for it."""
    period = int(round(rows))
    return seasonal_autocorrelation(np.asarray(train_target, dtype=np.float64), period) if period >= 2 else None


def _covered(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The time the rows cover: first to last plus one (mean) step, so 14 daily rows cover two weeks."""
    if len(index) < 2:
        return pd.Timedelta(0)
    between = index[-1] - index[0]
    return between + between / (len(index) - 1)


def _days(span: pd.Timedelta) -> str:
    days = span / pd.Timedelta(days=1)
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"


def parts_named(mode: str, freq: str | None) -> str:
    """The parts of `mode` at `freq` as --calendar names them ('hour,dayofweek', or 'off'): a manifest's
    'auto' spelled out."""
    return ",".join(calendar_parts(mode, freq)) or "off"


def calendar_width(mode: str, freq: str | None) -> int:
    """How many input columns the calendar adds: two per part."""
    return 2 * len(calendar_parts(mode, freq))


def calendar_columns(mode: str, freq: str | None) -> list[str]:
    return [f"{PREFIX}{part}_{wave}" for part in calendar_parts(mode, freq) for wave in ("sin", "cos")]


def calendar_values(index: pd.DatetimeIndex, mode: str, freq: str | None, lead: int) -> np.ndarray:
    """(T, 2P) float32: sin and cos of each part's phase at each row's timestamp + `lead` steps of `freq`.
    Written column by column into one Fortran-ordered array: a DataFrame takes it without a copy, and
    float32 is what the tensors hold (float64 columns stacked cost fit a second per 3M rows). Parts of
    the date are computed once per run of rows on one day (1,440 rows of a minute series), the hour
    from each row's nanosecond count: no pandas field is extracted per row."""
    parts = calendar_parts(mode, freq)
    values = np.empty((len(index), 2 * len(parts)), dtype=np.float32, order="F")
    if not parts:
        return values
    with warnings.catch_warnings():  # monthly offsets are applied element by element: pandas warns
        warnings.simplefilter("ignore")
        stamps = index.shift(lead, freq=freq)
    wall = stamps.tz_localize(None) if stamps.tz is not None else stamps  # the clock's time, as .hour reads it
    day = DAY_NS // pd.Timedelta(1, unit=wall.unit).value  # one day in the index's own unit: no conversion
    for first in range(0, len(wall), BLOCK_ROWS):  # int64 temporaries a block at a time: no pages of T rows
        rows = slice(first, first + BLOCK_ROWS)
        _block_values(wall[rows], day, parts, values[rows])
    return values


def _block_values(wall: pd.DatetimeIndex, day: int, parts: tuple[str, ...], values: np.ndarray) -> None:
    """One block of rows' sine and cosine columns, written into `values` (those rows of the whole)."""
    ticks = wall.asi8
    days = ticks // day  # floor division (right before 1970 too), by a constant: np.divmod is 10x slower
    starts = np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1])))  # each run of rows on one day
    counts = np.diff(np.append(starts, len(days)))
    for position, part in enumerate(parts):
        sine, cosine = values[:, 2 * position], values[:, 2 * position + 1]
        if part == "hour":
            _waves(ticks - days * day, 2 * np.pi / day, sine, cosine)
        else:
            _waves(_day_phase(wall[starts], days[starts], part), 2 * np.pi, sine, cosine, counts)


def _day_phase(first: pd.DatetimeIndex, days: np.ndarray, part: str) -> np.ndarray:
    """Where each day (`first`: a timestamp on it; `days`: its count since 1970) lies in the part's
    cycle, as a float64 fraction in [0, 1)."""
    if part == "dayofweek":
        return np.remainder(days + EPOCH_WEEKDAY, 7) / 7
    if part == "dayofyear":
        return (np.asarray(first.day_of_year) - 1) / np.where(first.is_leap_year, 366, 365)
    return (np.asarray(first.month) - 1) / 12


def _waves(phase: np.ndarray, radians: float, sine: np.ndarray, cosine: np.ndarray,
           counts: np.ndarray | None = None) -> None:
    """sin and cos of `phase` x `radians` (a float32 angle), written into the two float32 columns in place;
    with `counts` (one phase a day), each value repeated over its day's rows."""
    angle = np.empty(len(phase), dtype=np.float32)
    np.multiply(phase, radians, out=angle, casting="same_kind")  # no float64 temporaries of T rows
    for wave, column in ((np.sin, sine), (np.cos, cosine)):
        if counts is None:
            wave(angle, out=column)
        else:
            column[:] = np.repeat(wave(angle), counts)


def with_calendar(frame: Frame, mode: str, freq: str | None, lead: int) -> Frame:
    """The frame with its calendar columns appended (the same frame when there are none, or the data
    has no timestamps)."""
    columns = calendar_columns(mode, freq)
    if not columns or not isinstance(frame.data.index, pd.DatetimeIndex):
        return frame
    values = calendar_values(frame.data.index, mode, freq, lead)
    data = pd.concat([frame.data, pd.DataFrame(values, index=frame.data.index, columns=columns, copy=False)], axis=1)
    return replace(frame, data=data)
