"""Long-format table (id column(s), a time column, values) -> one Frame per series.

What can be judged once over the whole table is judged once: the time column is parsed once,
rows are sorted by (series, time) in one sort, each input column is read and checked as numbers
once, blanks are trimmed and filled without crossing from one series into the next. Only then is
each series cut out as a Frame over its own rows (a slice, no window copied). The frequency is
inferred once, from the longest series. Never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from forecast_cli.data.frame import (FIX_AT_FIT, FIX_AT_PREDICT, FIX_TARGET, ROW, Frame, FrameSpec, _as_numbers,
                                     _one_hot, _read_text_numbers, _require_target, decide_inputs)
from forecast_cli.data.calendar import calendar_columns, calendar_values, resolve_calendar
from forecast_cli.data.timeindex import detect_time_columns, infer_frequency, parse_time
from forecast_cli.errors import DataError

ID_SEPARATOR = "/"  # joins the values of several id columns into one series name: "store 1/item 7"


@dataclass
class Panel:
    """Every series of a long-format table, each a Frame in time order, in sorted id order."""

    frames: list[Frame]
    ids: list[str]  # series names, one per frame
    id_cols: tuple[str, ...]
    spec: FrameSpec
    freq: str | None
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # rows of the table as read
    calendar: str = "off"  # the calendar parts its frames carry, as the manifest stores them
    calendar_choice: dict = field(default_factory=dict)  # why (fit time, --calendar auto: data/calendar.py)

    def select(self, wanted: list[str] | None, name: str) -> "Panel":
        """Only the series named in `wanted` (all when None); a name not in the data is an error."""
        if not wanted:
            return self
        position = {series: i for i, series in enumerate(self.ids)}
        missing = [series for series in wanted if series not in position]
        if missing:
            shown = ", ".join(self.ids[:5]) + (" ..." if len(self.ids) > 5 else "")
            raise DataError(f"{name}: --ids names series {missing[0]!r}, which is not in the data (series: {shown}).")
        chosen = [position[series] for series in dict.fromkeys(wanted)]
        return replace(self, frames=[self.frames[i] for i in chosen], ids=[self.ids[i] for i in chosen])


def build_panel(raw: pd.DataFrame, name: str, target: str, features: tuple[str, ...] | None,
                time_col: tuple[str, ...] | None, id_cols: tuple[str, ...], horizon: int,
                calendar: str = "off", train_share: float = 1.0) -> Panel:
    """Decide time, inputs and exclusions once for all series (fit time); `--calendar auto` on the first
    `train_share` of the longest series' rows (its training part)."""
    notes: list[str] = []
    _require_target(raw, target, name)
    _require_id_columns(raw, id_cols, target, name)
    time_cols = detect_time_columns(raw.drop(columns=list(id_cols)), time_col, name)
    ordered, labels = _sorted_by_series(raw, id_cols, time_cols, name, notes)
    others = [c for c in raw.columns if c not in (*time_cols, *id_cols)]
    spec = decide_inputs(ordered, others, id_cols, name, target, features, time_cols, horizon, notes)
    return _split(ordered, labels, spec, id_cols, name, notes, FIX_AT_FIT, len(raw), calendar, horizon, train_share)


def rebuild_panel(raw: pd.DataFrame, name: str, spec: FrameSpec, id_cols: tuple[str, ...], calendar: str = "off",
                  horizon: int = 0) -> Panel:
    """Replay a saved spec on new long-format data (predict, evaluate)."""
    notes: list[str] = []
    missing = [c for c in (*id_cols, *spec.time_cols, *spec.numeric, *spec.categories) if c not in raw.columns]
    if missing:
        raise DataError(f"{name}: column {missing[0]!r}, which the model was trained on, is missing "
                        f"(columns: {', '.join(map(str, raw.columns))}).")
    ordered, labels = _sorted_by_series(raw, id_cols, spec.time_cols, name, notes)
    _read_text_numbers(ordered, list(spec.numeric), name, notes)
    return _split(ordered, labels, spec, id_cols, name, notes, FIX_AT_PREDICT, len(raw), calendar, horizon)


def _require_id_columns(raw: pd.DataFrame, id_cols: tuple[str, ...], target: str, name: str) -> None:
    for column in id_cols:
        if column not in raw.columns:
            raise DataError(f"{name}: --id-col names {column!r}, which is not a column "
                            f"(columns: {', '.join(map(str, raw.columns))}).")
        if column == target:
            raise DataError(f"{name}: --id-col {column!r} is the target; name the column that tells series apart.")


def series_labels(raw: pd.DataFrame, id_cols: tuple[str, ...], name: str) -> pd.Series:
    """One series name per row: the id column's text, or several joined by ID_SEPARATOR; a blank id is an
    error naming its line (rows without a series cannot be placed)."""
    blank = raw[list(id_cols)].isna().any(axis=1).to_numpy().copy()
    texts = [raw[c].astype(str).str.strip() for c in id_cols]
    blank |= np.logical_or.reduce([(t == "").to_numpy() for t in texts])
    if blank.any():
        line = int(np.flatnonzero(blank)[0]) + 2
        raise DataError(f"{name}: line {line} has no value in id column(s) {', '.join(map(repr, id_cols))}; "
                        "every row needs its series id. Fill it in or drop the row.")
    return texts[0] if len(texts) == 1 else texts[0].str.cat(texts[1:], sep=ID_SEPARATOR)


def _sorted_by_series(raw: pd.DataFrame, id_cols: tuple[str, ...], time_cols: tuple[str, ...], name: str,
                      notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sorted by series, then time (file order within a series without a time column), indexed by
    timestamp; and each row's series code. Two rows of one series at one time are an error."""
    labels = series_labels(raw, id_cols, name)
    codes, uniques = pd.factorize(labels, sort=True)
    frame = raw.copy()
    frame[ROW] = np.arange(len(frame)) + 2  # CSV line numbers: the header is line 1
    if time_cols:
        index = parse_time(frame, time_cols, name)
        order = np.lexsort((index.asi8, codes))
        frame.index = index
    else:
        notes.append(f"{name}: no time column found; each series' rows are taken in file order "
                     "(name one with --time-col).")
        order = np.argsort(codes, kind="stable")
        frame.index = pd.RangeIndex(len(frame))
    if (np.diff(order) != 1).any():
        notes.append(f"{name}: rows were not in series and time order; sorted by {', '.join(id_cols + time_cols)}.")
    frame, codes = frame.iloc[order], codes[order]
    if time_cols:
        _refuse_repeated_times(frame, codes, np.asarray(uniques), name)
        frame.index.name = "timestamp"
    return frame, codes


def _refuse_repeated_times(frame: pd.DataFrame, codes: np.ndarray, uniques: np.ndarray, name: str) -> None:
    stamps = frame.index.asi8
    repeated = (codes[1:] == codes[:-1]) & (stamps[1:] == stamps[:-1])
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0]) + 1
        raise DataError(f"{name}: series {uniques[codes[row]]!r} has timestamp {frame.index[row]} more than once "
                        f"(line {frame[ROW].iloc[row]}); keep one row per series and timestamp.")


def _split(ordered: pd.DataFrame, codes: np.ndarray, spec: FrameSpec, id_cols: tuple[str, ...], name: str,
           notes: list[str], fix: str, rows: int, calendar: str, lead: int, train_share: float = 1.0) -> Panel:
    """The checked numbers of every series, trimmed and filled within it, with the calendar columns of
    `--calendar` (data/calendar.py, `lead` steps ahead; at fit time `auto` is resolved on the longest
    series' first `train_share` of rows), cut into one Frame per series."""
    numeric = pd.DataFrame({
        c: _as_numbers(ordered, c, name, FIX_TARGET if c == spec.target and fix == FIX_AT_FIT else fix)
        for c in spec.numeric}, index=ordered.index)
    onehot = _one_hot(ordered, spec.categories, name, notes)
    values = pd.concat([numeric, onehot], axis=1).to_numpy(dtype="float64")
    keep, filled = _fill_within_series(values, codes, name, spec.target)
    values, codes, index = values[keep], codes[keep], ordered.index[keep]
    labels = series_labels(ordered.iloc[np.flatnonzero(keep)], id_cols, name).to_numpy()
    dropped = rows - int(keep.sum())
    if dropped and fix == FIX_AT_FIT:
        notes.append(f"{name}: dropped {dropped} row(s) at series' starts or ends with missing values.")
    if filled:
        notes.append(f"{name}: filled {filled} missing value(s) within their series by interpolation.")
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.arange(0)
    bounds = np.r_[starts, len(codes)]
    if not len(starts):
        raise DataError(f"{name}: no series has a row with every input filled.")
    longest = int(np.argmax(np.diff(bounds)))
    freq = infer_frequency(index[bounds[longest]: bounds[longest + 1]]) if spec.time_cols else None
    if spec.time_cols and freq is None:
        notes.append("the time steps are irregular; forecasts carry step numbers instead of timestamps.")
    choice: dict = {}
    if fix == FIX_AT_FIT:
        first, length = bounds[longest], bounds[longest + 1] - bounds[longest]
        rows = slice(first, first + max(1, int(length * train_share)))  # the longest series' training share
        train_index = index[rows] if spec.time_cols else None
        calendar, choice = resolve_calendar(calendar, freq, train_index, values[rows, 0])
    columns = list(spec.input_columns)
    if spec.time_cols and calendar_columns(calendar, freq):  # once over all series: each row's own timestamps
        values = np.hstack([values, calendar_values(index, calendar, freq, lead)])
        columns += calendar_columns(calendar, freq)
    columns = pd.Index(columns)  # built once: a list would be made an Index per series
    frames, ids = [], []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        data = pd.DataFrame(values[start:stop], index=index[start:stop], columns=columns, copy=False)
        frames.append(Frame(data, spec, freq, []))
        ids.append(str(labels[start]))
    return Panel(frames, ids, id_cols, spec, freq, notes, rows, calendar, choice)


def _fill_within_series(values: np.ndarray, codes: np.ndarray, name: str, target: str) -> tuple[np.ndarray, int]:
    """Which rows to keep, filling `values` (T, F) in place: each series starts at its first row with
    every input filled and ends at its last target value; blanks between values are interpolated by
    position and inputs blank to a series' end carry their last value, never reaching into a neighbour."""
    present = ~np.isnan(values)  # (T, F)
    group = pd.Series(codes)
    complete = pd.Series(present.all(axis=1))
    started = complete.groupby(group).cummax().to_numpy()
    has_target = pd.Series(present[:, 0])
    before_end = has_target[::-1].groupby(group[::-1]).cummax()[::-1].to_numpy()
    keep = started & before_end
    blanks = int((~present[keep]).sum())
    if blanks:
        kept = pd.DataFrame(values[keep])
        kept_group = group[keep].reset_index(drop=True)
        filled = kept.interpolate(method="linear", limit_direction="forward")
        carried = kept.groupby(kept_group).ffill()
        seen_later = kept.notna()[::-1].groupby(kept_group[::-1]).cummax()[::-1]
        values[keep] = np.where(seen_later.to_numpy(), filled.to_numpy(), carried.to_numpy())
    if not keep.any():
        raise DataError(f"{name}: no row has every input filled and a value of target {target!r}.")
    return keep, blanks
