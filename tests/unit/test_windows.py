"""windows.py: window views equal manual slicing, never cross into a later split, and the split's error text."""

import re

import numpy as np
import pytest

from forecast_cli.errors import DataError
from forecast_cli.data.windows import input_windows, origins_between, split_rows, targets_at, windows_at

ROWS, FEATURES, WINDOW, HORIZON = 60, 3, 7, 4


@pytest.fixture
def values() -> np.ndarray:
    """(T, F) with every cell distinct, so a shifted slice can never compare equal by accident."""
    return np.arange(ROWS * FEATURES, dtype=np.float32).reshape(ROWS, FEATURES)


def test_input_windows_equal_manual_slices(values):
    windows = input_windows(values, WINDOW)
    assert windows.shape == (ROWS - WINDOW + 1, WINDOW, FEATURES)
    for row in range(len(windows)):
        np.testing.assert_array_equal(windows[row], values[row: row + WINDOW])


def test_windows_at_and_targets_at_equal_manual_slices(values):
    target = values[:, 0]
    origins = np.arange(WINDOW + 5, ROWS - HORIZON + 1)
    inputs, targets = windows_at(values, origins, WINDOW), targets_at(target, origins, HORIZON)
    assert inputs.shape == (len(origins), WINDOW, FEATURES)
    assert targets.shape == (len(origins), HORIZON)
    for i, origin in enumerate(origins):
        np.testing.assert_array_equal(inputs[i], values[origin - WINDOW: origin])
        np.testing.assert_array_equal(targets[i], target[origin: origin + HORIZON])


def test_windows_at_returns_a_view_not_a_copy(values):
    origins = np.arange(WINDOW, ROWS - HORIZON + 1)
    inputs = windows_at(values, origins, WINDOW)
    targets = targets_at(values[:, 0], origins, HORIZON)
    assert np.shares_memory(inputs, values)
    assert np.shares_memory(targets, values)


@pytest.mark.parametrize("rows, val_frac, test_frac, window, horizon", [
    (60, 0.1, 0.2, 7, 4), (100, 0.1, 0.2, 20, 1), (500, 0.15, 0.25, 30, 12), (45, 0.0, 0.3, 5, 3),
])
def test_origins_never_reach_a_later_split(rows, val_frac, test_frac, window, horizon):
    splits = split_rows(rows, val_frac, test_frac, window, horizon, "data.csv")
    train = origins_between(0, splits.train_end, window, horizon)
    val = origins_between(splits.train_end, splits.val_end, window, horizon)
    test = origins_between(splits.val_end, splits.rows, window, horizon)
    assert len(train) and train.min() >= window
    assert train.max() + horizon <= splits.train_end, "a training target reaches the validation rows"
    if val_frac:
        assert val.min() >= splits.train_end and val.max() + horizon <= splits.val_end
    assert test.min() >= splits.val_end and test.max() + horizon <= splits.rows


def test_origins_between_covers_every_origin_that_fits():
    """The last allowed origin is included: its targets end exactly at the boundary."""
    np.testing.assert_array_equal(origins_between(0, 20, 5, 3), np.arange(5, 18))
    np.testing.assert_array_equal(origins_between(10, 20, 5, 3), np.arange(10, 18))
    assert len(origins_between(10, 12, 5, 3)) == 0


def test_split_rows_error_names_the_minimum_rows():
    with pytest.raises(DataError) as raised:
        split_rows(25, 0.1, 0.2, 20, 1, "prices.csv")
    message = str(raised.value)
    assert message == (
        "prices.csv: --window 20 + --horizon 1 with --val-frac 0.1 and --test-frac 0.2 needs at least 30 rows; "
        "the data has 25 after dropping blanks. Lower --window or --horizon, or add rows."
    )


@pytest.mark.parametrize("val_frac, test_frac, window, horizon", [
    (0.1, 0.2, 20, 1), (0.1, 0.3, 4, 3), (0.05, 0.3, 4, 7), (0.2, 0.2, 4, 1), (0.0, 0.2, 4, 1), (0.1, 0.2, 13, 5),
])
def test_split_rows_minimum_is_exact(val_frac, test_frac, window, horizon):
    """The stated minimum splits (as does every count above it) and one row fewer does not."""
    with pytest.raises(DataError) as raised:
        split_rows(window, val_frac, test_frac, window, horizon, "data.csv")
    minimum = int(re.search(r"needs at least (\d+) rows", str(raised.value)).group(1))
    for rows in range(minimum, minimum + 200):
        split_rows(rows, val_frac, test_frac, window, horizon, "data.csv")
    with pytest.raises(DataError):
        split_rows(minimum - 1, val_frac, test_frac, window, horizon, "data.csv")


def test_column_statistics_over_many_blocks_equal_numpys_mean_and_std():
    from forecast_cli.data.windows import TRANSFORM_ROWS, column_statistics

    rng = np.random.default_rng(3)
    columns = rng.normal(size=(2 * TRANSFORM_ROWS + 17, 4)) * [1.0, 1e-200, 1e5, 3.0] + [0.0, 0.0, 1e9, -7.0]
    columns[: TRANSFORM_ROWS, 3] += 100.0  # a level shift between blocks: the merge must carry it
    mean, spread = column_statistics(columns)
    unit = np.abs(columns).max(axis=0)  # numpy's own std squares 1e-200 to 0: compare on the unit scale
    np.testing.assert_allclose(mean / unit, (columns / unit).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(spread / unit, (columns / unit).std(axis=0), rtol=1e-9)
    assert spread[1] > 0
