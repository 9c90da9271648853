"""The leak guard: input columns whose value on a row equals an input's value some rows later.

A column like that holds the future (the Shanghai file's `label` is the next day's `high`), so
frame.py leaves it out. "Equals" means within a relative tolerance on LEAK_SHARE of the rows both
hold a value. Up to EXHAUSTIVE_COLUMNS inputs every pair is compared; beyond, only the pairs that
agree on a few sampled rows are (see `_look_alike_pairs`), so 10,000 columns cost seconds, not hours.
Never imports torch or pandas.
"""

from __future__ import annotations

import numpy as np

LEAK_SHARE = 0.99  # share of rows where a column equals a future value for it to count as a leak
LEAK_SHIFTS = 3  # how far ahead inputs other than the target are compared
LEAK_RTOL = 1e-6  # relative tolerance of "equal", as np.isclose(now, later, rtol=LEAK_RTOL, atol=0)
# No absolute tolerance: np.isclose's default 1e-8 made every pair of columns of values near 1e-9 "equal",
# so the same data in another unit lost its inputs.
MIN_ROWS = 10  # rows both columns must hold at a shift before the comparison counts
EXHAUSTIVE_COLUMNS = 200  # up to this many inputs, every pair is compared
PROBE_SETS = 6  # independent samples of rows used to find look-alike pairs among more columns
PROBE_ROWS = 6  # rows per sample: pairs whose values agree on all of them but one are compared in full
LOOK_ALIKE_LIMIT = 64  # look-alike sources compared per column, the first in input order
LOOK_ALIKE_PER_KEY = 8  # of which at most this many per sampled-row key, so crowds stay cheap
LOG_STEPS = 100  # buckets per doubling when values are binned to find look-alikes (about 0.7% wide)
BATCH_VALUES = 4_000_000  # values compared per numpy step, to bound memory
SCREEN_ROWS = 20_000  # rows sampled to rule pairs out before the full comparison, on series over 4x longer
SCREEN_SHARE = 0.9  # a pair agreeing on fewer sampled rows than this is no leak (see _matching_shifts)
SCREEN_MIN = 1_000  # sampled rows both must hold before the screen rules a pair out
NAN, ZERO, POS_INF, NEG_INF = -1, -2, -3, -4  # bin codes of values without a logarithm


def find_leaks(names: list[str], values: np.ndarray | list[np.ndarray], max_shifts: np.ndarray,
               notes: list[str]) -> dict[str, str]:
    """Input name -> why it leaks, for each input (never `names[0]`, the target) that equals another
    input k rows later, 1 <= k <= max_shifts[source]; the first such source in input order wins, at its
    smallest k. `values` is (T, N) float64 with NaN for blanks, columns in `names` order, or the N (T,)
    columns: then no (T, N) copy is made unless the look-alike search needs one."""
    columns = len(names)
    if columns < 2:
        return {}
    if isinstance(values, list) and columns > EXHAUSTIVE_COLUMNS:
        values = np.stack(values, axis=1)
    crowded = np.zeros(columns, dtype=bool)
    if columns <= EXHAUSTIVE_COLUMNS:
        column, source = np.divmod(np.arange(columns * columns), columns)
        keep = (column > 0) & (column != source)
        column, source = column[keep], source[keep]
    else:
        column, source, crowded = _look_alike_pairs(values, max_shifts)
    shifts = _matching_shifts(values, column, source, max_shifts)
    found = shifts > 0
    column, source, shifts = column[found], source[found], shifts[found]
    order = np.lexsort((source, column))  # per column, its sources in input order
    column, source, shifts = column[order], source[order], shifts[order]
    _, first = np.unique(column, return_index=True)
    _note_crowded(np.setdiff1d(np.flatnonzero(crowded), column), names, notes)
    return {names[column[i]]: f"it equals {names[source[i]]!r} {shifts[i]} row(s) later, so it would leak the future"
            for i in first}


def _matching_shifts(values: np.ndarray | list[np.ndarray], column: np.ndarray, source: np.ndarray,
                     max_shifts: np.ndarray) -> np.ndarray:
    """(P,) the smallest k in 1..max_shifts[source] with values[t, column] == values[t + k, source]
    on nearly every row both hold, per pair; 0 where there is none.

    A long series is screened first on SCREEN_ROWS random rows: a pair that agrees on under
    SCREEN_SHARE of the sampled rows both hold (with at least SCREEN_MIN such rows) cannot agree on
    LEAK_SHARE of all rows but by a chance below one in 10^60, so only the others are compared
    in full; the full comparison alone decides."""
    rows = len(values[0]) if isinstance(values, list) else values.shape[0]
    shifts = np.zeros(len(column), dtype=np.int64)
    sample = (np.sort(np.random.default_rng(0).choice(rows - int(max_shifts.max(initial=0)), SCREEN_ROWS, replace=False))
              if rows > 4 * SCREEN_ROWS else None)
    for shift in range(1, int(max_shifts.max(initial=0)) + 1):
        todo = np.flatnonzero((shifts == 0) & (max_shifts[source] >= shift))
        if sample is not None and len(todo):
            counted, share = _agreement(values, column[todo], source[todo], shift, sample)
            todo = todo[(counted < SCREEN_MIN) | (share >= SCREEN_SHARE)]
        counted, share = _agreement(values, column[todo], source[todo], shift)
        shifts[todo[(counted >= MIN_ROWS) & (share >= LEAK_SHARE)]] = shift
    return shifts


def _agreement(values: np.ndarray | list[np.ndarray], column: np.ndarray, source: np.ndarray, shift: int,
               rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the rows t (all, or `rows`) where both values[t, column] and values[t + shift, source]
    are held, and the share of those where they are equal (within LEAK_RTOL)."""
    total = len(values[0]) if isinstance(values, list) else values.shape[0]
    length = total - shift if rows is None else len(rows)
    counted, agreeing = np.zeros(len(column), dtype=np.int64), np.zeros(len(column), dtype=np.int64)
    batch = max(1, BATCH_VALUES // max(length, 1))
    for start in range(0, len(column), batch):
        pairs = slice(start, start + batch)
        now_rows, later_rows = (slice(None, total - shift), slice(shift, None)) if rows is None else (rows, rows + shift)
        now = _take(values, now_rows, column[pairs])  # (T - k, B) or (S, B)
        later = _take(values, later_rows, source[pairs])
        valid = ~(np.isnan(now) | np.isnan(later))
        with np.errstate(invalid="ignore"):  # inf - inf
            close = ((np.abs(now - later) <= LEAK_RTOL * np.abs(later)) & np.isfinite(later)
                     | (now == later))
        close &= valid  # np.isclose's test, written out: its generality costs three times the time
        counted[pairs], agreeing[pairs] = valid.sum(axis=0), close.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counted, agreeing / counted


def _take(values: np.ndarray | list[np.ndarray], rows, columns: np.ndarray) -> np.ndarray:
    """values[rows][:, columns] of a (T, N) array or of a list of columns."""
    if isinstance(values, list):
        return np.stack([values[c][rows] for c in columns], axis=1) if len(columns) else np.empty((0, 0))
    return values[rows][:, columns]


def _look_alike_pairs(values: np.ndarray, max_shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column, source) pairs worth comparing in full, and a mask of the columns that had too many:
    the pairs whose binned values agree, at some shift, on all rows but at most one of one of
    PROBE_SETS samples of PROBE_ROWS rows. Linear in the number of columns.

    Values within LEAK_RTOL of each other share a bin unless a grid change falls between them (about
    3 in 10,000 rows, see `_bins`); blanks share a bin too. So an exact shifted copy, blanks copied
    with it, is always found, and one that differs on 1% of rows practically always. A copy blank on
    rows where its source is not is missed when every sample holds two such rows: about 2 in 1,000
    copies blank on a fifth of the rows, 1 in 2 blank on half of them. A column with more than
    LOOK_ALIKE_LIMIT look-alikes (many constant or 0/1 columns) is compared with the first ones in
    input order only.
    """
    bins = _bins(values)  # (T, N) int64
    rows, count = values.shape
    candidates, crowded = np.empty(0, dtype=np.int64), np.zeros(count, dtype=bool)
    for shift in range(1, int(max_shifts.max()) + 1):
        sources = np.flatnonzero(max_shifts >= shift)
        found = [candidates]
        for probe in _probe_rows(values, rows - shift, shift):
            keys = zip(_sample_keys(bins[probe][:, 1:]), _sample_keys(bins[probe + shift][:, sources]))
            for column_keys, source_keys in keys:  # the target, column 0, is never the column
                column, source, full = _join(column_keys, np.arange(1, count), source_keys, sources)
                found.append(column * count + source)
                crowded[full] = True
        candidates, full = _first_per_column(_unique(np.concatenate(found)), count)
        crowded[full] = True
    column, source = np.divmod(candidates, count)
    keep = column != source
    return column[keep], source[keep], crowded


def _unique(codes: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, by sorting: its hashing is several times slower here)."""
    codes = np.sort(codes)
    return codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes


def _first_per_column(pairs: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted pair codes column * count + source, at most LOOK_ALIKE_LIMIT per column (the lowest
    sources), and the columns that had more."""
    column = pairs // count
    starts = np.searchsorted(column, column, side="left")  # each pair's rank within its column
    rank = np.arange(len(pairs)) - starts
    return pairs[rank < LOOK_ALIKE_LIMIT], np.unique(column[rank >= LOOK_ALIKE_LIMIT])


def _note_crowded(unsure: np.ndarray, names: list[str], notes: list[str]) -> None:
    """One note for the columns compared with only some of their look-alikes and not found to leak."""
    if len(unsure):
        notes.append(f"the leak guard compared {len(unsure)} column(s) (first {names[unsure[0]]!r}) with only "
                     f"{LOOK_ALIKE_LIMIT} of the many columns that look alike on sampled rows (constant or 0/1 "
                     "columns?); a leak among the others would go unnoticed.")


def _bins(values: np.ndarray) -> np.ndarray:
    """(T, N) int64 bin per value: sign and log2 magnitude in LOG_STEPS steps per doubling, each value
    on whichever of two half-offset grids keeps it at least a quarter bin from an edge; NaN, 0 and
    infinities get codes of their own. Two values within LEAK_RTOL get different bins only when a
    grid change (every half bin) lies between them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        position = np.log2(np.abs(values)) * LOG_STEPS
    finite = np.isfinite(position)
    position = np.where(finite, position, 0.0)
    fraction = position - np.floor(position)
    shifted_grid = (fraction < 0.25) | (fraction >= 0.75)
    bucket = np.where(shifted_grid, np.floor(position + 0.5), np.floor(position)).astype(np.int64)
    codes = (bucket * 2 + shifted_grid) * 2 + (values < 0)
    codes = np.where(finite, codes + 1_000_000, 0)  # regular codes stay positive
    special = np.select([np.isnan(values), values == 0, values == np.inf, values == -np.inf],
                        [NAN, ZERO, POS_INF, NEG_INF], default=0)
    return np.where(finite, codes, special).astype(np.int64)


def _probe_rows(values: np.ndarray, usable: int, shift: int) -> list[np.ndarray]:
    """PROBE_SETS arrays of PROBE_ROWS row numbers in [0, usable), each spread over the whole series,
    taken among the rows (and the rows `shift` later) with the fewest blanks."""
    if usable < 1:
        return []
    blanks = np.isnan(values).sum(axis=1)
    score = blanks[:usable] + blanks[shift: shift + usable]
    best = np.sort(np.argsort(score, kind="stable")[: max(usable // 2, PROBE_SETS * PROBE_ROWS)])
    picks = best[np.linspace(0, len(best) - 1, PROBE_SETS * PROBE_ROWS).round().astype(np.int64)]
    return [picks[i::PROBE_SETS] for i in range(PROBE_SETS)]


def _sample_keys(bins: np.ndarray) -> list[np.ndarray]:
    """(P, M) bins of P sampled rows -> P + 1 arrays of (M,) uint64 keys: of all P rows, and of all
    rows but row j for each j. Two columns agreeing on all rows but one share one of the keys; equal
    keys otherwise are hash collisions, which only add a pair to compare."""
    return [_row_hash(bins, skip) for skip in range(-1, len(bins))]


def _row_hash(bins: np.ndarray, skip: int) -> np.ndarray:
    multipliers = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                            0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD], dtype=np.uint64)
    key = np.full(bins.shape[1], skip + 2, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for row, multiplier in zip(range(len(bins)), np.resize(multipliers, len(bins))):
            if row != skip:
                key = (key ^ bins[row].astype(np.uint64)) * multiplier
    return key


def _join(column_keys: np.ndarray, columns: np.ndarray, source_keys: np.ndarray,
          sources: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (column, source) of equal keys, at most LOOK_ALIKE_PER_KEY sources per column (the first
    in input order), and the columns that had more."""
    order = np.lexsort((sources, source_keys))
    keys, ids = source_keys[order], sources[order]
    low = np.searchsorted(keys, column_keys, side="left")
    counts = np.searchsorted(keys, column_keys, side="right") - low
    full = columns[counts > LOOK_ALIKE_PER_KEY]
    counts = np.minimum(counts, LOOK_ALIKE_PER_KEY)
    starts = np.repeat(low - (np.cumsum(counts) - counts), counts)
    picked = ids[starts + np.arange(counts.sum())]
    return np.repeat(columns, counts), picked, full
