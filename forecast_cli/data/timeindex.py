"""The time axis of a frame: which columns hold it, how they parse, and what frequency they follow.

Owns time only; column selection and gaps are frame.py's. Never imports torch.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from forecast_cli.data.fixeddates import read_fixed_width
from forecast_cli.errors import DataError

TIME_NAMES = ("date", "datetime", "timestamp", "time", "ds", "month", "period", "dt", "day", "week")
PART_NAMES = ("year", "month", "day", "hour", "minute", "second")
PARSE_SHARE = 0.9  # share of values that must parse for an undeclared column to count as time
NAMED_PARSE_SHARE = 0.5  # lower for a column named like time: its bad lines are then reported, not ignored
MAX_GRID_FACTOR = 10  # a time grid over this many times the rows is not built to count gaps (an outlier date)
FREQUENCY_WORDS = {"Day": ("daily", "days"), "Hour": ("hourly", "hours"), "Minute": ("every minute", "minutes"),
                   "Second": ("every second", "seconds"), "BusinessDay": ("business days", "business days"),
                   "Week": ("weekly", "weeks"), "MonthBegin": ("monthly", "months"),
                   "MonthEnd": ("monthly", "months"), "QuarterBegin": ("quarterly", "quarters"),
                   "QuarterEnd": ("quarterly", "quarters"), "YearBegin": ("yearly", "years"),
                   "YearEnd": ("yearly", "years")}
SAMPLE = 200  # values looked at to decide whether a column holds time and in which format
MAX_DATE_CHARS = 100  # longer text is not a date ("Wednesday, 25 September 2024 12:34:56.123456 +05:30" is 52)
NO_TIME = "none"  # --time-col none: no time column, rows in file order (unless a column has that name)
# `1-01`, `13-12`: year (1 or 2 digits, counted from 1) and month, as in the shampoo-sales file. Year Y is
# read as 2000 + Y, so 1-01 is 2001-01-01: the years only number the data, and every one stays in order.
YEAR_MONTH = re.compile(r"(\d{1,2})-(0[1-9]|1[0-2])")
YEAR_MONTH_BASE = 2000
SEASON_BY_OFFSET = {"Hour": 24, "Day": 7, "BusinessDay": 5, "Week": 52, "MonthBegin": 12,
                    "MonthEnd": 12, "QuarterBegin": 4, "QuarterEnd": 4}


def detect_time_columns(raw: pd.DataFrame, requested: tuple[str, ...] | None, name: str) -> tuple[str, ...]:
    """The column(s) holding time: as requested, split year/month/day[/hour] parts, or a date-like column;
    () for none found or `--time-col none` (rows in file order)."""
    if requested and len(requested) == 1 and requested[0].lower() == NO_TIME and requested[0] not in raw.columns:
        return ()
    if requested:
        missing = [column for column in requested if column not in raw.columns]
        if missing:
            raise DataError(
                f"{name}: --time-col {missing[0]!r} is not a column (columns: {', '.join(map(str, raw.columns))})."
            )
        return tuple(requested)
    parts = _date_part_columns(raw)
    if parts:
        return parts
    by_name = [c for c in raw.columns if _looks_like_time_name(str(c))]
    others = [c for c in raw.columns if c not in by_name and not pd.api.types.is_numeric_dtype(raw[c])]
    for column in by_name:
        if _parses_as_dates(raw[column], NAMED_PARSE_SHARE):
            return (column,)
    for column in others:
        if _parses_as_dates(raw[column], PARSE_SHARE):
            return (column,)
    return ()


def _looks_like_time_name(column: str) -> bool:
    """`Date`, `timestamp`, `Week Ending`, `order_date`: a time word as the name or one of its words."""
    lowered = column.strip().lower()
    words = lowered.replace("_", " ").replace("-", " ").split()
    return lowered in TIME_NAMES or "date" in lowered or "time" in lowered or any(w in TIME_NAMES for w in words)


def _date_part_columns(raw: pd.DataFrame) -> tuple[str, ...]:
    """Columns named year, month (and day, hour, ...) holding integers, in calendar order."""
    by_lower = {str(c).strip().lower(): c for c in raw.columns}
    if "year" not in by_lower or "month" not in by_lower:
        return ()
    found = tuple(by_lower[p] for p in PART_NAMES if p in by_lower)
    if all(pd.api.types.is_integer_dtype(raw[c]) for c in found):
        return found
    return ()


def _parses_as_dates(series: pd.Series, share: float) -> bool:
    if pd.api.types.is_numeric_dtype(series):
        return False
    sample = series.iloc[: 4 * SAMPLE].dropna().head(SAMPLE)  # the first SAMPLE values, without a pass over all
    if len(sample) < SAMPLE < len(series):
        sample = series.dropna().head(SAMPLE)
    sample = sample.astype(str)
    if sample.empty:
        return False
    sample = sample.where(sample.str.len() <= MAX_DATE_CHARS, "")  # too long to be a date; parsing it is slow
    if sample.str.strip().str.fullmatch(YEAR_MONTH).mean() >= share:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed", utc=True)  # utc: offsets may differ (DST)
    return parsed.notna().mean() >= share


def parse_time(raw: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DatetimeIndex:
    """One timestamp per row; an unparsable or mixed-format value is an error naming its CSV line."""
    if len(columns) > 1 and all(str(c).strip().lower() in PART_NAMES for c in columns):
        return _assemble_parts(raw, columns, name)
    text = joined_text(raw, columns, " ") if len(columns) > 1 else raw[columns[0]]
    return _parse_text_dates(text, ", ".join(map(str, columns)), name)


def joined_text(frame: pd.DataFrame, columns: tuple[str, ...], separator: str) -> pd.Series:
    """Each row's values of `columns` as text joined by `separator`, column by column (vectorized:
    `.agg(separator.join, axis=1)` is a Python call per row, seconds on a million rows)."""
    texts = [frame[column].astype(str) for column in columns]
    return texts[0].str.cat(texts[1:], sep=separator) if len(texts) > 1 else texts[0]


def _assemble_parts(raw: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DatetimeIndex:
    """Dates from year, month (day 1 when absent), day, hour... columns; a bad row is named by its line."""
    parts = raw[list(columns)].rename(columns=lambda c: str(c).strip().lower())
    if "day" not in parts.columns:
        parts["day"] = 1  # year and month alone: monthly data, dated on the first
    numeric = parts.apply(pd.to_numeric, errors="coerce")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(numeric, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        values = ", ".join(f"{c}={raw[c].iloc[row]}" for c in columns)
        raise DataError(f"{name}: time columns {', '.join(map(str, columns))} do not form a valid date on line "
                        f"{row + 2} ({values}); fix or remove that row.")
    shown = joined_text(parts, tuple(parts.columns), "-")
    _require_nanosecond_range(parsed, shown, ", ".join(map(str, columns)), name)
    return pd.DatetimeIndex(parsed)


def _parse_text_dates(values: pd.Series, label: str, name: str) -> pd.DatetimeIndex:
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"{name}: time column {label!r} is empty on line {row + 2}; fill or remove that row.")
    parsed = _one_format_reading(values.astype(str))
    if parsed is not None:  # every value read in the first value's format: nothing to strip or report
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        _require_nanosecond_range(parsed, values, label, name)
        return pd.DatetimeIndex(parsed)
    text = values.astype(str).str.strip()
    _refuse_long_values(text, label, name)
    parsed, formats = _best_reading(text)
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = f"the format of line 2 ({text.iloc[0]!r})" if formats[0] else "a date"
        raise DataError(
            f"{name}: time column {label!r} line {row + 2} holds {text.iloc[row]!r}, which does not match "
            f"{hint}; use one date format throughout, or name the right column with --time-col."
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    _require_nanosecond_range(parsed, text, label, name)
    return pd.DatetimeIndex(parsed)


def _one_format_reading(text: pd.Series) -> pd.Series | None:
    """Timestamps when the first format `_best_reading` would try (guessed from the first values) reads
    every value as it is, unstripped; None otherwise, and `_best_reading` then goes the whole way. The
    same answer, without stripping or measuring a million values first."""
    head = text.head(SAMPLE * 2).str.strip()  # what _candidate_formats looks at
    if head.head(SAMPLE).str.fullmatch(YEAR_MONTH).mean() >= PARSE_SHARE or head.str.len().max() > MAX_DATE_CHARS:
        return None
    first = _candidate_formats(head)[0]
    if first is None:
        return None
    unit = _to_datetime(text.head(1), first).dt.unit  # the unit to_datetime itself gives (pandas 2: ns)
    fixed = read_fixed_width(text, first, unit)  # numbers at fixed places: read without a Python call per value
    if fixed is not None:
        return pd.Series(fixed, index=text.index)
    parsed = _to_datetime(text, first)
    return parsed if parsed.notna().all() else None


def _best_reading(text: pd.Series) -> tuple[pd.Series, list[str | None]]:
    """Timestamps under the candidate format that reads every value, else the one reading the most (its
    failures are reported), and the formats tried. A sample mostly of `Y-MM` values means YEAR_MONTH."""
    if text.head(SAMPLE).str.fullmatch(YEAR_MONTH).mean() >= PARSE_SHARE:
        parts = text.str.extract(f"^{YEAR_MONTH.pattern}$")  # no match: NaN, then NaT
        year = pd.to_numeric(parts[0]) + YEAR_MONTH_BASE
        return pd.to_datetime({"year": year, "month": pd.to_numeric(parts[1]), "day": 1}, errors="coerce"), ["Y-MM"]
    formats = _candidate_formats(text)
    parsed = None
    for fmt in formats:
        attempt = _to_datetime(text, fmt)
        if parsed is None or attempt.notna().sum() > parsed.notna().sum():
            parsed = attempt  # a failure is reported under the format that reads the most lines
        if attempt.notna().all():
            break
    return parsed, formats


def _candidate_formats(text: pd.Series) -> list[str | None]:
    """Formats guessed from the first value, month-first then day-first (01.02.2010 is ambiguous),
    and from a value whose day exceeds 12; None means pandas' own mixed parsing, tried last."""
    samples = [text.iloc[0], *text.iloc[1:SAMPLE * 2:7]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about the very ambiguity handled here
        guess = pd.tseries.api.guess_datetime_format
        formats = [guess(text.iloc[0]), guess(text.iloc[0], dayfirst=True)]
        formats += [guess(value, dayfirst=True) for value in samples if guess(value) is None]
    if pd.Series(samples).str.fullmatch(r"\d{4}").all():  # a sample, like the guesses: %Y is tried first only
        formats.insert(0, "%Y")
    unique = list(dict.fromkeys(f for f in formats if f))
    return unique if unique else [None]


def _refuse_long_values(text: pd.Series, label: str, name: str) -> None:
    """A value over MAX_DATE_CHARS cannot be a date, and pandas' mixed-format parsing of it is slow."""
    long = (text.str.len() > MAX_DATE_CHARS).to_numpy()
    if long.any():
        row = int(np.flatnonzero(long)[0])
        raise DataError(f"{name}: time column {label!r} line {row + 2} holds {len(text.iloc[row]):,} characters "
                        f"({text.iloc[row][:20]!r}...), too long for a date (at most {MAX_DATE_CHARS}); fix that "
                        "value, or name the right column with --time-col.")


def _to_datetime(text: pd.Series, fmt: str | None) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # utc=True: offsets that change with daylight saving become one instant scale.
        return pd.to_datetime(text, errors="coerce", format=fmt if fmt else "mixed", utc=True)


def _require_nanosecond_range(parsed: pd.Series, shown: pd.Series, label: str, name: str) -> None:
    """Refuse dates beyond what nanosecond timestamps (and so frequencies) can hold: 1678-2261."""
    if len(parsed) and pd.Timestamp.min <= parsed.min() and parsed.max() <= pd.Timestamp.max:
        return  # the extremes are inside: so is every value (one comparison each, not two a row)
    outside = ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max)).to_numpy()
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DataError(f"{name}: time column {label!r} line {row + 2} holds {shown.iloc[row]!r}, a date outside "
                        f"{pd.Timestamp.min.year + 1}-{pd.Timestamp.max.year - 1}; fix that value.")


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """The step between rows as a pandas offset alias, including business days with holidays; None if irregular."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces that infer_freq will return an offset
        freq = pd.infer_freq(index)
    if freq:
        return freq if isinstance(freq, str) else freq.freqstr
    deltas = pd.Series(np.diff(index.as_unit("ns").asi8))
    mode = int(deltas.mode().iloc[0])
    one_day = pd.Timedelta(days=1).value
    if mode == one_day and (index.day_of_week < 5).all() and (index == index.normalize()).all():
        return "B"
    if (index.day == 1).all() and (deltas.between(28 * one_day, 31 * one_day)).mean() >= PARSE_SHARE:
        return "MS"
    if (deltas == mode).mean() >= PARSE_SHARE:
        if mode % one_day == 0:  # pandas would spell a day as "24h"
            return "D" if mode == one_day else f"{mode // one_day}D"
        return pd.tseries.frequencies.to_offset(pd.Timedelta(mode)).freqstr
    return None


def future_timestamps(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    """The `steps` timestamps after `last` at frequency `freq`."""
    return pd.date_range(start=last, periods=steps + 1, freq=freq)[1:]


def season_of(freq: str | None) -> int | None:
    """The seasonal-naive period a frequency implies (hourly 24, daily 7, monthly 12, ...), or None."""
    if not freq:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    if offset.n != 1:
        return None
    return SEASON_BY_OFFSET.get(type(offset).__name__)


def frequency_words(freq: str | None) -> str:
    """A frequency for people: "daily (D)", "hourly (h)", "every 15 minutes (15min)", "monthly (MS)";
    "irregular" for None; the alias alone when it has no name here."""
    if not freq:
        return "irregular"
    offset = pd.tseries.frequencies.to_offset(freq)
    words = FREQUENCY_WORDS.get(type(offset).__name__)
    if words is None:
        return freq
    return f"{words[0] if offset.n == 1 else f'every {offset.n} {words[1]}'} ({freq})"


def missing_timestamps(index: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Timestamps of the regular grid at `freq` from the first row to the last that the data lacks.
    Business days are not counted (their holidays are expected), nor a grid too large to build."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if len(index) < 3 or type(offset).__name__ in ("BusinessDay", "CustomBusinessDay"):
        return pd.DatetimeIndex([])
    unit = pd.Timedelta(1, unit=index.unit).value  # nanoseconds a count of the index's own unit
    steps = np.diff(index.asi8)  # in that unit: no nanosecond copy of a million timestamps
    if isinstance(offset, pd.offsets.Tick) and offset.nanos % unit == 0 and (steps == offset.nanos // unit).all():
        return pd.DatetimeIndex([])  # every step is the fixed one: no grid to build and compare (3M rows)
    smallest = steps[steps > 0].min() * unit if (steps > 0).any() else 0
    if not smallest or (index[-1] - index[0]).value / smallest > MAX_GRID_FACTOR * len(index):
        return pd.DatetimeIndex([])
    return pd.date_range(index[0], index[-1], freq=offset).difference(index)
