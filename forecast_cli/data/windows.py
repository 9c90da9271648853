"""Frame values -> float32 arrays, chronological splits, a train-only scaler, and window views.

Windows are numpy views (`sliding_window_view`): no sample is copied until a batch is made.
Never imports torch or pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecast_cli.errors import DataError

TRANSFORM_ROWS = 65_536  # rows scaled at a time
HEADROOM = 16.0  # values up to float64's max / 16: forecasts a few spreads out and their errors stay finite


@dataclass(frozen=True)
class Splits:
    """Row boundaries: train [0, train_end), validation [train_end, val_end), test [val_end, rows)."""

    train_end: int
    val_end: int
    rows: int


@dataclass(frozen=True)
class Scaler:
    """Per-column z-score fitted on training rows only; column 0 is the target."""

    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    # Forking training only: the spread of the first differences of the leading R z-scored columns
    # (R,), so that the network reads differences of unit size; None otherwise.
    difference_scale: np.ndarray | None = None

    @classmethod
    def fit(cls, train_values: np.ndarray, statistics: tuple[np.ndarray, np.ndarray] | None = None) -> "Scaler":
        """Fit on the training rows; a constant column gets scale 1 so it passes through unchanged.
        `statistics`: column_statistics(train_values), when the caller has them already."""
        mean, scale = statistics if statistics is not None else column_statistics(train_values)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise DataError("values are too large to normalize; rescale the data and retry.")
        scale = np.where(scale > 0, scale, 1.0)
        return cls(mean, scale)

    def with_differences(self, train_values: np.ndarray, columns: int) -> "Scaler":
        """This scaler plus the spread of the row-to-row differences of the first `columns` z-scored
        training columns (1 where a column never changes)."""
        scaled = (train_values[:, :columns] - self.mean[:columns]) / self.scale[:columns]  # the R leading columns' own
        steps = np.diff(scaled.astype(np.float32).astype(np.float64), axis=0)  # (T-1, R)
        spread = steps.std(axis=0) if len(steps) else np.ones(columns)
        return Scaler(self.mean, self.scale, np.where(spread > 0, spread, 1.0))

    def transform(self, values) -> np.ndarray:
        """(T, F) original units -> (T, F) float32 z-scores; values beyond float32 become inf (callers check).
        `values`: an array or a frame's columns, read a block of rows at a time (row_blocks)."""
        scaled = np.empty((len(values), len(self.mean)), dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for rows, block in row_blocks(values):  # float64 temporaries a block at a time
                scaled[rows] = (block - self.mean) / self.scale
        return scaled

    def target_to_original(self, scaled: np.ndarray) -> np.ndarray:
        """Target z-scores of any shape -> original units (float64)."""
        return scaled.astype(np.float64) * self.scale[0] + self.mean[0]

    def to_dict(self) -> dict[str, list[float]]:
        record = {"mean": self.mean.tolist(), "scale": self.scale.tolist()}
        if self.difference_scale is not None:
            record["difference_scale"] = self.difference_scale.tolist()
        return record

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> "Scaler":
        differences = data.get("difference_scale")
        return cls(np.asarray(data["mean"], dtype="float64"), np.asarray(data["scale"], dtype="float64"),
                   None if differences is None else np.asarray(differences, dtype="float64"))


def row_blocks(values) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, (B, F) float64 block) for each TRANSFORM_ROWS rows of `values`: a (T, F) array, or a pandas
    frame (sliced by position through `.iloc`), whose float64 and float32 columns are then never stacked
    whole: at 3M rows x 13 columns that copy is 300 MB and half a CPU-second of page faults."""
    rows = getattr(values, "iloc", values)
    for start in range(0, len(values), TRANSFORM_ROWS):
        yield slice(start, start + TRANSFORM_ROWS), np.asarray(rows[start: start + TRANSFORM_ROWS], dtype=np.float64)


def column_range(values) -> tuple[np.ndarray, np.ndarray]:
    """(F,) smallest and largest value of each column, NaN where a column holds one; 0 when no rows."""
    columns = values.shape[1] if len(values.shape) == 2 else 0
    low, high = np.zeros(columns), np.zeros(columns)
    for rows, block in row_blocks(values):
        first = rows.start == 0
        low = block.min(axis=0) if first else np.minimum(low, block.min(axis=0))
        high = block.max(axis=0) if first else np.maximum(high, block.max(axis=0))
    return low, high


def column_statistics(values, value_range: tuple[np.ndarray, np.ndarray] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(T, F) -> mean and standard deviation (F,), float64, computed on each column divided by its largest
    magnitude, so the unit does not matter: the squares of values near 1e-300 underflow to 0 and those
    near 1e+300 overflow, and either way a plain `std` loses the column. inf where a column's values are
    beyond float64's max / HEADROOM (their differences and forecasts would overflow).

    Blocks of TRANSFORM_ROWS rows (row_blocks: an array or a frame), merged exactly (Chan et al.'s pairwise
    update): no (T, F) float64 temporary, which cost a full-size allocation and its page faults per pass.
    `value_range`: column_range(values), when the caller has it already (a pass less)."""
    columns = values.shape[1] if len(values.shape) == 2 else 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        low, high = column_range(values) if value_range is None else value_range
        magnitude = np.maximum(np.maximum(high, 0.0), -np.minimum(low, 0.0))
        unit = np.where((magnitude > 0) & np.isfinite(magnitude), magnitude, 1.0)  # (F,) max |v|
        count, mean, squares = 0, np.zeros(columns), np.zeros(columns)
        for _, block in row_blocks(values):
            ratios = block / unit  # (B, F) float64 in [-1, 1]
            block_mean = ratios.mean(axis=0)
            ratios -= block_mean
            block_squares = np.einsum("ij,ij->j", ratios, ratios)
            total = count + len(ratios)
            delta = block_mean - mean
            mean = mean + delta * (len(ratios) / total)
            squares = squares + block_squares + delta ** 2 * (count * len(ratios) / total)
            count = total
        mean = mean * unit if count else np.full(columns, np.nan)
        scale = np.sqrt(squares / count) * unit if count else np.full(columns, np.nan)
    too_large = ~(magnitude <= np.finfo("float64").max / HEADROOM)
    return np.where(too_large, np.inf, mean), np.where(too_large, np.inf, scale)


def split_rows(rows: int, val_frac: float, test_frac: float, window: int, horizon: int, name: str) -> Splits:
    """Chronological split; each part must hold at least one full window (train) or horizon (val, test)."""
    train, val, _ = _part_sizes(rows, val_frac, test_frac, horizon)
    if train < window + horizon:
        raise DataError(
            f"{name}: --window {window} + --horizon {horizon} with --val-frac {val_frac} and --test-frac "
            f"{test_frac} needs at least {minimum_rows(val_frac, test_frac, window, horizon)} "
            f"rows; the data has {rows} after dropping blanks. Lower --window or --horizon, or add rows."
        )
    return Splits(train_end=train, val_end=train + val, rows=rows)


def split_with_test(rows: int, test: int, val_frac: float, window: int, horizon: int, name: str) -> Splits:
    """A split whose test part is given (the last `test` rows, a backtest fold's block); validation is
    --val-frac of the rows as in split_rows; too few training rows is a DataError."""
    val = validation_rows(rows, val_frac, horizon)
    train = rows - val - test
    if train < window + horizon:
        raise DataError(f"{name}: --window {window} + --horizon {horizon} needs {window + horizon} training rows "
                        f"before the last {test} (the test block) and {val} validation rows; the data has {rows}.")
    return Splits(train_end=train, val_end=train + val, rows=rows)


def validation_rows(rows: int, val_frac: float, horizon: int) -> int:
    """--val-frac of `rows`, at least a horizon when not zero (as in split_rows)."""
    val = int(round(rows * val_frac))
    return max(val, horizon) if val_frac > 0 else val


def _part_sizes(rows: int, val_frac: float, test_frac: float, horizon: int) -> tuple[int, int, int]:
    """Rows of (train, validation, test); a non-empty validation or test part holds at least a horizon."""
    test = int(round(rows * test_frac))
    val = int(round(rows * val_frac))
    if test_frac > 0:
        test = max(test, horizon)
    if val_frac > 0:
        val = max(val, horizon)
    return rows - val - test, val, test


def minimum_rows(val_frac: float, test_frac: float, window: int, horizon: int) -> int:
    """The row count from which every larger one splits: rounding makes the train part grow unevenly,
    so this walks down from a count that surely works (train >= rows(1-v-t) - 1 - 2*horizon)."""
    needed = window + horizon
    rows = int(np.ceil((needed + 2 * horizon + 2) / (1 - val_frac - test_frac)))
    while rows > needed and _part_sizes(rows - 1, val_frac, test_frac, horizon)[0] >= needed:
        rows -= 1
    return rows


def origins_between(start: int, stop: int, window: int, horizon: int) -> np.ndarray:
    """Forecast origins t (first predicted row) whose targets [t, t + horizon) lie in [start, stop)
    and whose inputs [t - window, t) exist."""
    first = max(start, window)
    last = stop - horizon
    return np.arange(first, last + 1) if last >= first else np.arange(0)


def input_windows(values: np.ndarray, window: int) -> np.ndarray:
    """(T, F) -> view (T - window + 1, window, F); row i holds inputs for origin i + window."""
    return sliding_window_view(values, window, axis=0).transpose(0, 2, 1)


def target_windows(target: np.ndarray, horizon: int) -> np.ndarray:
    """(T,) -> view (T - horizon + 1, horizon); row t holds targets for origin t."""
    return sliding_window_view(target, horizon)


def windows_at(values: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """Inputs for consecutive origins as a view (N, window, F); origins must be a contiguous range."""
    if len(origins) == 0:
        return np.empty((0, window, values.shape[1]), dtype=values.dtype)
    assert np.all(np.diff(origins) == 1), "origins must be consecutive for a view"
    return input_windows(values, window)[origins[0] - window: origins[-1] - window + 1]


def targets_at(target: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Targets for consecutive origins as a view (N, horizon)."""
    if len(origins) == 0:
        return np.empty((0, horizon), dtype=target.dtype)
    assert np.all(np.diff(origins) == 1), "origins must be consecutive for a view"
    return target_windows(target, horizon)[origins[0]: origins[-1] + 1]
