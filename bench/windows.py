"""Window building: numpy views (what forecast does) against the tutorial's Python loop.

Run: python bench/windows.py   (prints figures; never part of the test suite)
"""

from __future__ import annotations

import time

import numpy as np

from forecast_cli.data.windows import input_windows, target_windows

WINDOW, HORIZON = 20, 1


def loop_windows(values: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's way: one Python iteration and one copy per sample."""
    xs, ys = [], []
    for i in range(len(values) - WINDOW - HORIZON + 1):
        xs.append(values[i: i + WINDOW])
        ys.append(target[i + WINDOW: i + WINDOW + HORIZON])
    return np.array(xs), np.array(ys)


def view_windows(values: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = input_windows(values, WINDOW)[: len(values) - WINDOW - HORIZON + 1]
    y = target_windows(target, HORIZON)[WINDOW:]
    return x, y


def best_of(function, *args, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'rows':>9} {'features':>8} {'loop s':>9} {'views s':>9} {'speed-up':>9} {'loop MB':>8} {'views MB':>8}")
    for rows, features in ((6_102, 7), (43_800, 9), (500_000, 8)):
        values = rng.normal(size=(rows, features)).astype(np.float32)
        target = values[:, 0].copy()
        loop_x, _ = loop_windows(values, target)
        view_x, _ = view_windows(values, target)
        assert np.array_equal(loop_x, view_x)
        loop_s, view_s = best_of(loop_windows, values, target, repeats=2), best_of(view_windows, values, target)
        print(f"{rows:>9} {features:>8} {loop_s:>9.4f} {view_s:>9.6f} {loop_s / view_s:>8.0f}x "
              f"{loop_x.nbytes / 2**20:>8.1f} {0.0:>8.1f}")


if __name__ == "__main__":
    main()
