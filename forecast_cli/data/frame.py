"""Raw DataFrame -> time-indexed numeric frame: time, sort, features, categories, leak guard, gaps.

`build_frame` decides everything at fit time and records it in a FrameSpec; `rebuild_frame`
replays that spec on new data for predict and evaluate. Never imports torch.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.errors import DataError
from forecast_cli.data.leaks import LEAK_SHIFTS, find_leaks
from forecast_cli.data.numtext import is_number_text, read_text_numbers
from forecast_cli.data.timeindex import (detect_time_columns, frequency_words, infer_frequency,
                                         missing_timestamps, parse_time)

ROW = "__row__"  # original CSV row position, kept through sorting for messages
FIX_AT_FIT = "Fix that value, or leave the column out with --features."
FIX_TARGET = "The target must hold numbers; choose another --target."
FIX_AT_PREDICT = "The model was trained on it as numbers; fix that value."
NUMBER_ADVICE = "write its numbers without thousands separators and with a decimal point (1234.5)."


@dataclass(frozen=True)
class FrameSpec:
    """Everything needed to turn another CSV into the same model inputs; stored in the manifest."""

    target: str
    time_cols: tuple[str, ...]  # () when rows are taken in file order
    numeric: tuple[str, ...]  # numeric input columns, target first
    categories: dict[str, list[str]] = field(default_factory=dict)  # one-hot columns and their values
    excluded: dict[str, str] = field(default_factory=dict)  # column -> why it is not an input

    @property
    def input_columns(self) -> list[str]:
        """Model input order: numeric columns (target first), then one-hot columns `name=value`."""
        onehot = [f"{column}={value}" for column, values in self.categories.items() for value in values]
        return list(self.numeric) + onehot


@dataclass(frozen=True)
class Labels:
    """A classifier's class code per frame row, and what the codes mean (built by labels.py)."""

    codes: np.ndarray  # (T,) int64 index into `classes`; -1 where undefined (a derived label's first rows)
    classes: list[Any]  # class names in code order: ints or strings, as in the data
    name: str  # the label column, or the derived label's name
    derived_from: str | None = None  # the numeric column of a direction label


@dataclass
class Frame:
    """A clean frame indexed by time (or row number), with what was done to get there."""

    data: pd.DataFrame  # float columns in spec.input_columns order
    spec: FrameSpec
    freq: str | None
    notes: list[str]  # one-line warnings for the user
    dropped_leading: int = 0
    filled: int = 0  # blanks filled: interpolated between rows, or carried forward after an input's last value
    dropped_trailing: int = 0  # last rows dropped because the target is blank there
    labels: Labels | None = None  # class per row for --task classify (labels.py); None when forecasting
    dtypes: dict[str, str] = field(default_factory=dict)  # input columns' dtypes as read (fit time only)


def build_frame(raw: pd.DataFrame, name: str, target: str, features: tuple[str, ...] | None,
                time_col: tuple[str, ...] | None, horizon: int) -> Frame:
    """Decide time, inputs and exclusions from the data itself (fit time)."""
    notes: list[str] = []
    _require_target(raw, target, name)
    time_cols = detect_time_columns(raw, time_col, name)
    if target in time_cols:
        raise DataError(f"{name}: --target {target!r} is the time column; choose a column of values to forecast.")
    in_file_order = (f"{name}: --time-col none: rows are taken in file order." if time_col and not time_cols else
                     f"{name}: no time column found; rows are taken in file order (name one with --time-col).")
    ordered = _index_by_time(raw, time_cols, name, notes, in_file_order)
    spec = decide_inputs(ordered, [c for c in raw.columns if c not in time_cols], (), name, target, features,
                         time_cols, horizon, notes)
    frame = _finish(ordered, spec, name, notes)
    frame.dtypes = {c: str(ordered[c].dtype) for c in (*spec.numeric, *spec.categories)}
    return frame


def decide_inputs(ordered: pd.DataFrame, candidates: list, ids: tuple[str, ...], name: str, target: str,
                  features: tuple[str, ...] | None, time_cols: tuple[str, ...], horizon: int,
                  notes: list[str]) -> FrameSpec:
    """The model's inputs (text numbers among `candidates` read in place; the `ids` columns of a
    many-series file never inputs), with the columns left out and why, a note each: the FrameSpec fit
    records, for one series or many."""
    unreadable = _read_text_numbers(ordered, candidates, name, notes)
    numeric, categorical, excluded = _choose_inputs(ordered.drop(columns=list(ids)) if ids else ordered, name,
                                                    target, features, time_cols, unreadable)
    excluded.update(_find_leaks(ordered, target, numeric, horizon, notes))
    for column, reason in excluded.items():
        notes.append(f"{name}: column {column!r} is not used as an input: {reason}.")
    numeric = tuple(c for c in numeric if c not in excluded)
    categories = {c: sorted(ordered[c].dropna().astype(str).unique().tolist()) for c in categorical}
    return FrameSpec(target, time_cols, numeric, categories, excluded)


def rebuild_frame(raw: pd.DataFrame, name: str, spec: FrameSpec) -> Frame:
    """Replay a saved spec on new data (predict, evaluate): same columns, same categories."""
    notes: list[str] = []
    missing = [c for c in (*spec.time_cols, *spec.numeric, *spec.categories) if c not in raw.columns]
    if missing:
        raise DataError(
            f"{name}: column {missing[0]!r}, which the model was trained on, is missing "
            f"(columns: {', '.join(map(str, raw.columns))})."
        )
    ordered = _index_by_time(raw, spec.time_cols, name, notes,
                             f"{name}: the model was fitted without a time column; rows are taken in file order.")
    _read_text_numbers(ordered, list(spec.numeric), name, notes)
    return _finish(ordered, spec, name, notes, FIX_AT_PREDICT)


def _finish(ordered: pd.DataFrame, spec: FrameSpec, name: str, notes: list[str], fix: str = FIX_AT_FIT) -> Frame:
    numeric = pd.DataFrame({
        c: _as_numbers(ordered, c, name, FIX_TARGET if c == spec.target and fix == FIX_AT_FIT else fix)
        for c in spec.numeric}, index=ordered.index, copy=False)  # a block per column: not stacked (a copy)
    numeric, gaps = _fill_gaps(numeric, name)
    kept = ordered.iloc[gaps.leading: len(ordered) - gaps.trailing]  # the rows of `numeric`, by position
    data = numeric.astype("float64")
    if spec.categories:
        data = pd.concat([data, _one_hot(kept, spec.categories, name, notes)], axis=1)
    notes.extend(_gap_notes(gaps, kept, spec.target, name))
    freq = infer_frequency(data.index) if isinstance(data.index, pd.DatetimeIndex) else None
    if spec.time_cols and freq is None:
        notes.append("the time steps are irregular; forecasts carry step numbers instead of timestamps.")
    elif freq:
        _note_gaps(data.index, freq, name, notes)
    filled = gaps.interpolated + sum(gaps.carried.values())
    return Frame(data, spec, freq, notes, gaps.leading, filled, gaps.trailing)


def _note_gaps(index: pd.DatetimeIndex, freq: str, name: str, notes: list[str]) -> None:
    """One note counting the timestamps a regular series lacks (a daily file missing three days)."""
    missing = missing_timestamps(index, freq)
    if len(missing):
        first = missing[0]
        shown = str(first.date()) if first == first.normalize() else first.isoformat(sep=" ")
        notes.append(f"{name}: {len(missing)} timestamp(s) missing from the {frequency_words(freq)} time grid "
                     f"(first {shown}); rows are taken as consecutive steps.")


def _index_by_time(raw: pd.DataFrame, time_cols: tuple[str, ...], name: str, notes: list[str],
                   in_file_order: str) -> pd.DataFrame:
    """Rows indexed and sorted by time, or numbered in file order (with the note `in_file_order`)."""
    frame = raw.copy(deep=False)  # the columns stay shared: what follows replaces columns, never writes into them
    frame[ROW] = np.arange(2, len(frame) + 2)  # CSV line numbers: the header is line 1
    if not time_cols:
        notes.append(in_file_order)
        return frame.set_index(pd.RangeIndex(len(frame), name="step"))
    frame.index = parse_time(frame, time_cols, name)
    frame.index.name = "timestamp"
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append(f"{name}: rows were not in time order; sorted by {', '.join(time_cols)}.")
    stamps = frame.index.asi8  # sorted: a repeat is a step of zero (no hashing of a million stamps)
    duplicated = stamps[1:] == stamps[:-1]
    if duplicated.any():
        first = int(np.flatnonzero(duplicated)[0]) + 1
        series = _series_column(frame, time_cols)
        if series is not None:
            raise DataError(_several_series(frame, series, name))
        raise DataError(
            f"{name}: timestamp {frame.index[first]} appears more than once (line {frame[ROW].iloc[first]}); "
            "keep one row per timestamp."
        )
    return frame


def _series_column(frame: pd.DataFrame, time_cols: tuple[str, ...]) -> str | None:
    """The column whose values tell apart the rows sharing a timestamp (a long-format file's series id):
    with it the timestamps are unique, and it repeats (at most half as many values as rows). Of several,
    the one with the fewest values, text before numbers."""
    found = []
    for column in (c for c in frame.columns if c not in (ROW, *time_cols)):
        values = frame[column]
        count = values.nunique(dropna=False)
        if 2 <= count <= len(frame) // 2 and not pd.MultiIndex.from_arrays([frame.index, values]).duplicated().any():
            found.append((count, pd.api.types.is_numeric_dtype(values), column))
    return min(found)[2] if found else None


def _several_series(frame: pd.DataFrame, column: str, name: str) -> str:
    """Say which column holds the series and how to keep one (one series per file is what fit learns)."""
    values = frame[column].drop_duplicates().tolist()
    position = [c for c in frame.columns if c != ROW].index(column) + 1
    first = values[0]
    test = f'${position}=={first}' if isinstance(first, (int, float, np.number)) else f'${position}=="{first}"'
    source = name if not name.startswith("<") else "data.csv"
    shown = ", ".join(repr(v) for v in values[:3]) + (", ..." if len(values) > 3 else "")
    return (f"{name}: several series in one file (column {column!r} repeats timestamps): {len(values)} series "
            f"({shown}). A model learns one series; pick one and keep its rows with the header, e.g. "
            f"awk -F, 'NR==1 || {test}' {source} > one_series.csv")


def _require_target(frame: pd.DataFrame, target: str, name: str) -> None:
    if target in frame.columns and target != ROW:
        return
    columns = [str(c) for c in frame.columns if c != ROW]
    if len(columns) == 1:
        raise DataError(f"{name}: target column {target!r} not found; the file reads as one column "
                        f"({columns[0][:60]!r}). Separate columns with a comma, semicolon, tab or |.")
    close = [c for c in columns if c.lower() == target.lower()] or difflib.get_close_matches(
        target, columns, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise DataError(
        f"{name}: target column {target!r} not found (columns: {', '.join(columns)}).{hint} Choose it with --target."
    )


def _choose_inputs(frame: pd.DataFrame, name: str, target: str, features: tuple[str, ...] | None,
                   time_cols: tuple[str, ...], unreadable: dict[str, str]
                   ) -> tuple[list[str], list[str], dict[str, str]]:
    """Numeric and categorical input columns, target first, and the columns left out with why."""
    excluded: dict[str, str] = {}
    if features is None:
        candidates = [c for c in frame.columns if c not in (ROW, target, *time_cols)]
        numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
        for column in numeric:
            if _is_row_counter(frame[column]):
                excluded[column] = "it counts rows, it is not a measurement"
        excluded.update({c: f"it {why}" for c, why in unreadable.items() if c in candidates})
        return [target] + numeric, [], excluded
    _require_columns(frame, features, name)
    named = [c for c in dict.fromkeys(features) if c != target]
    for column in named:
        if column in unreadable:
            raise DataError(f"{name}: column {column!r} {unreadable[column]}; {NUMBER_ADVICE}")
    for column in (c for c in named if c in time_cols):
        excluded[column] = "it is the time column"
    named = [c for c in named if c not in time_cols]
    numeric = [c for c in named if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in named if c not in numeric]
    return [target] + numeric, categorical, excluded


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    for column in columns:
        if column not in frame.columns or column == ROW:
            available = ", ".join(str(c) for c in frame.columns if c != ROW)
            raise DataError(f"{name}: --features names {column!r}, which is not a column (columns: {available}).")


def _is_row_counter(series: pd.Series) -> bool:
    values = series.to_numpy()
    return bool(pd.api.types.is_integer_dtype(series) and len(values) > 2 and (np.diff(values) == 1).all())


def _find_leaks(frame: pd.DataFrame, target: str, numeric: list[str], horizon: int,
                notes: list[str]) -> dict[str, str]:
    """Columns whose value on a row equals an input's value some rows later: they hold the future (leaks.py).

    The target is checked 1..horizon rows ahead; other inputs a few rows ahead, since a copy of
    tomorrow's high (the Shanghai file's `label`) leaks tomorrow's close nearly as much.
    """
    if len(numeric) < 2:
        return {}
    block = frame[list(numeric)]  # one selection: column by column costs more than the comparison at 10,000
    text = [c for c, dtype in block.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]  # a text target
    if text:
        block = block.assign(**{c: pd.to_numeric(block[c], errors="coerce") for c in text})
    # The N (T,) columns, not a (T, N) copy: the leak guard compares sampled rows and few pairs in full.
    values = [block[c].to_numpy(dtype="float64", **({} if block[c].dtype == "float64" else {"na_value": np.nan}))
              for c in numeric]
    max_shifts = np.array([max(horizon, 1) if c == target else min(max(horizon, 1), LEAK_SHIFTS) for c in numeric])
    return find_leaks(list(numeric), values, max_shifts, notes)


def _read_text_numbers(frame: pd.DataFrame, columns: list[str], name: str, notes: list[str]) -> dict[str, str]:
    """Convert, in place, text columns holding numbers with thousands separators or decimal commas
    (see numtext.py); return the columns whose numbers cannot be read unambiguously, with why."""
    unreadable = {}
    for column in columns:
        if column == ROW or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        read = read_text_numbers(frame[column])
        if read.values is not None:
            frame[column] = read.values.to_numpy()
            if read.style:
                notes.append(f"{name}: column {column!r} has numbers written with {read.style}; read them as such.")
        elif read.problem:
            unreadable[column] = read.problem
    return unreadable


def _as_numbers(frame: pd.DataFrame, column: str, name: str, fix: str = FIX_AT_FIT) -> pd.Series:
    """A numeric column as float64; text that is not a number is an error naming its line."""
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series):
        problem = read_text_numbers(series).problem
        if problem:
            raise DataError(f"{name}: column {column!r} {problem}; {NUMBER_ADVICE}")
        text = series.map(lambda value: "" if pd.isna(value) else str(value).strip())
        bad = (text != "").to_numpy() & ~text.map(is_number_text).to_numpy(dtype=bool)
        row = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        value = str(series.iloc[row])
        raise DataError(f"{name}: column {column!r} line {frame[ROW].iloc[row]} holds {value!r}, not a number. {fix}")
    values = series.astype("float64")
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise DataError(
            f"{name}: column {column!r} line {frame[ROW].iloc[row]} holds an infinite value; "
            "replace it with a number or leave it empty."
        )
    return values


@dataclass(frozen=True)
class Gaps:
    """What `_fill_gaps` did to the blanks."""

    leading: int  # first rows dropped: some input blank
    trailing: int  # last rows dropped: the target blank (nothing to interpolate towards)
    interpolated: int  # blanks between two values, interpolated in time
    carried: dict[str, int]  # input -> blanks after its last value, carried forward


def _fill_gaps(numeric: pd.DataFrame, name: str) -> tuple[pd.DataFrame, Gaps]:
    """Drop leading rows with blanks and trailing rows with a blank target (so a forecast starts after
    the last observed value), interpolate the blanks between values in time, carry other inputs' last
    values forward over the rows after them."""
    target = numeric.columns[0]  # the inputs come target first
    blanks = {c: mask for c in numeric.columns if (mask := _blanks(numeric[c])) is not None}
    if not len(numeric) or (target in blanks and blanks[target].all()):
        raise DataError(f"{name}: target column {target!r} has no values; choose another --target.")
    complete = ~np.logical_or.reduce(list(blanks.values())) if blanks else None
    if complete is not None and not complete.any():
        worst = max(blanks, key=lambda c: int(blanks[c].sum()))
        raise DataError(f"{name}: no row has every input filled; column {worst!r} is empty the most. "
                        "Leave it out with --features.")
    start = int(np.argmax(complete)) if complete is not None else 0
    trailing = int(np.argmax(~blanks[target][::-1])) if target in blanks else 0  # blank targets at the end
    end = len(numeric) - trailing
    trimmed = numeric.iloc[start:end]
    held_blank = {c: mask[start:end] for c, mask in blanks.items()}  # every column is held on the first row
    after_last = {c: int(np.argmax(~mask[::-1])) for c, mask in held_blank.items()}  # blanks after its last value
    carried = {c: n for c, n in after_last.items() if n}
    interpolated = sum(int(mask.sum()) for mask in held_blank.values()) - sum(carried.values())
    if interpolated or carried:
        method = "time" if isinstance(trimmed.index, pd.DatetimeIndex) else "linear"
        trimmed = trimmed.interpolate(method=method, limit_direction="forward")  # pads after the last value
    return trimmed, Gaps(start, len(numeric) - end, interpolated, carried)


def _blanks(column: pd.Series) -> np.ndarray | None:
    """(T,) bool: where `column` is blank; None when nowhere. A float column is checked by its minimum
    first (NaN wins it): the usual column without blanks then costs no array of T rows."""
    values = column.to_numpy()
    if values.dtype.kind == "f" and (not len(values) or not np.isnan(values.min())):
        return None
    mask = np.isnan(values) if values.dtype.kind == "f" else np.asarray(pd.isna(column))
    return mask if mask.any() else None


def _gap_notes(gaps: Gaps, kept: pd.DataFrame, target: str, name: str) -> list[str]:
    """One line per thing done to blanks; `kept` holds the rows kept, with their CSV line numbers."""
    notes = []
    if gaps.leading:
        notes.append(f"{name}: dropped {gaps.leading} leading row(s) with missing values.")
    if gaps.trailing:
        last, line = kept.index[-1], kept[ROW].iloc[-1]
        when = f"line {line}"
        if isinstance(kept.index, pd.DatetimeIndex):
            when = f"{last.date() if last == last.normalize() else last.isoformat(sep=' ')} ({when})"
        notes.append(f"{name}: dropped {gaps.trailing} trailing row(s) whose target {target!r} is blank; the data "
                     f"ends at the last observed value, {when}.")
    if gaps.interpolated:
        notes.append(f"{name}: filled {gaps.interpolated} missing value(s) by interpolation in time.")
    for column, count in gaps.carried.items():
        notes.append(f"{name}: column {column!r} is blank in the last {count} row(s); its last value is carried "
                     "forward.")
    return notes


def _one_hot(frame: pd.DataFrame, categories: dict[str, list[str]], name: str, notes: list[str]) -> pd.DataFrame:
    """One column per saved category; values not seen at fit time get all zeros and a note."""
    columns = {}
    for column, values in categories.items():
        text = frame[column].astype(str)
        unseen = sorted(set(text.dropna().unique()) - set(values))
        if unseen:
            notes.append(f"{name}: column {column!r} has values not seen in training ({', '.join(unseen[:3])}); "
                         "they are encoded as none of the known ones.")
        for value in values:
            columns[f"{column}={value}"] = (text == value).astype("float64")
    return pd.DataFrame(columns, index=frame.index)
