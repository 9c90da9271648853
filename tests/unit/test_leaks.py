"""leaks.py: the leak guard finds shifted copies among thousands of columns, and its look-alike search
(used beyond EXHAUSTIVE_COLUMNS inputs) finds what comparing every pair finds."""

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data import leaks
from forecast_cli.data.frame import build_frame


def _walks(rows: int, columns: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = 100 + np.cumsum(rng.normal(size=(rows, columns)), axis=0).round(3)
    return pd.DataFrame(values, columns=[f"x{i}" for i in range(columns)])


def test_a_leak_planted_among_2000_columns_is_found():
    raw = _walks(120, 2000)
    raw.insert(0, "date", pd.date_range("2020-01-01", periods=120, freq="D").strftime("%Y-%m-%d"))
    raw["tomorrow"] = raw["x0"].shift(-1)  # the target's next value
    raw["label"] = raw["x1500"].shift(-2)  # another input's value two rows later (horizon 3 checks up to 3)
    frame = build_frame(raw, "wide.csv", "x0", None, None, 3)
    assert frame.spec.excluded == {
        "tomorrow": "it equals 'x0' 1 row(s) later, so it would leak the future",
        "label": "it equals 'x1500' 2 row(s) later, so it would leak the future",
    }
    assert len(frame.spec.input_columns) == 2000
    assert not [note for note in frame.notes if "leak guard" in note]


def _planted(seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Random walks with copies shifted 1-4 rows: exact, rounded, within 1e-7, blank where the source
    is, or with a differing row; and a constant column and its duplicate."""
    rng = np.random.default_rng(seed)
    rows, count = int(rng.integers(12, 220)), int(rng.integers(3, 40))
    values = np.cumsum(rng.normal(size=(rows, count)), axis=0) * 10 ** rng.uniform(-2, 6)
    for _ in range(int(rng.integers(1, 6))):
        column, source, shift = int(rng.integers(1, count)), int(rng.integers(0, count)), int(rng.integers(1, 5))
        kind = rng.integers(4)
        if kind == 2:
            values[rng.random(rows) < 0.1, source] = np.nan  # copied with the values
        copy = np.full(rows, np.nan)
        copy[:-shift] = values[shift:, source]
        if kind == 1:
            copy = copy * (1 + rng.uniform(-1e-7, 1e-7, rows))
        elif kind == 3 and rows > 150:
            copy[int(rng.integers(rows - shift))] += 1.0  # one differing row: still 99% equal
        values[:, column] = copy
    values[:, -1] = values[:, -2] = 0.0
    max_shifts = np.array([int(rng.integers(1, 6))] + [3] * (count - 1))
    return [f"c{i}" for i in range(count)], values, max_shifts


@pytest.mark.parametrize("seed", range(40))
def test_look_alike_search_agrees_with_comparing_every_pair(seed, monkeypatch):
    names, values, max_shifts = _planted(seed)
    every_pair = leaks.find_leaks(names, values, max_shifts, [])
    assert every_pair  # the premise: something was planted
    monkeypatch.setattr(leaks, "EXHAUSTIVE_COLUMNS", 0)
    notes: list[str] = []
    assert leaks.find_leaks(names, values, max_shifts, notes) == every_pair
    assert notes == []


def test_many_look_alike_01_columns_get_a_note_not_hours():
    rng = np.random.default_rng(1)
    values = (rng.random((120, 400)) < 0.5).astype(float)
    values[:, 0] = np.cumsum(rng.normal(size=120))
    names = [f"flag{i}" for i in range(400)]
    names[0] = "target"
    notes: list[str] = []
    found = leaks.find_leaks(names, values, np.array([1] * 400), notes)
    assert found == {}
    assert len(notes) == 1 and notes[0].startswith("the leak guard compared ") and "0/1 columns" in notes[0]


def test_on_a_long_series_the_sampled_screen_keeps_what_the_full_comparison_finds():
    rows = 4 * leaks.SCREEN_ROWS + 1000  # long enough to be screened on sampled rows first
    values = _walks(rows, 4, seed=5).to_numpy()
    copy = np.roll(values[:, 0], -1)  # the target one row later: a leak
    near = copy.copy()
    near[:: 40] += 1.0  # equal on 97.5% of rows: under LEAK_SHARE, not a leak
    sparse = np.full(rows, np.nan)
    sparse[:: 50] = copy[:: 50]  # a leak held on 2% of rows: too few sampled rows to rule out, compared in full
    names = ["x0", "x1", "x2", "x3", "copy", "near", "sparse"]
    table = np.column_stack([values, copy, near, sparse])[:-1]
    found = leaks.find_leaks(names, table, np.array([3] + [1] * 6), [])
    assert found == {"copy": "it equals 'x0' 1 row(s) later, so it would leak the future",
                     "sparse": "it equals 'x0' 1 row(s) later, so it would leak the future"}
