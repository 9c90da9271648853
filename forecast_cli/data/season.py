"""The season of a series: candidate periods from its frequency, confirmed on the training part.

A candidate S is confirmed when the autocorrelation at lag S of the detrended training target (the
target minus its centred moving average over S rows, which removes the trend and keeps a cycle of
period S) is at least THRESHOLD; among confirmed candidates the shortest wins unless a longer one's
autocorrelation is higher by more than PREFER_LONGER (a weekly cycle in hourly data also repeats
daily). Never imports torch; `--season N` / `--season none` bypass it (recipe.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Measured on bench/accuracy.py's suite: seasonal series score 0.44-0.94 at their period, aseasonal ones
# (random walk, stock index, sunspots at 12, daily temperatures at 7, pollution at 24) at most 0.133.
THRESHOLD = 0.3
PREFER_LONGER = 0.1
MIN_CYCLES = 3  # periods of training rows for the moving average (it costs one, the lag another)

# Cycles per frequency unit, in units of that frequency: hourly data repeats daily and weekly, ...
CYCLES = {"Hour": (24, 168), "Day": (7, 365), "BusinessDay": (5, 261), "Week": (52,), "MonthBegin": (12,),
          "MonthEnd": (12,), "QuarterBegin": (4,), "QuarterEnd": (4,),
          "Minute": (60, 1440), "Second": (60, 3600, 86400)}


@dataclass(frozen=True)
class SeasonFinding:
    """The detected season (None: none) with every candidate's autocorrelation (None: too few rows)."""

    season: int | None
    candidates: dict[int, float | None] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"season": self.season, "candidates": {str(k): v for k, v in self.candidates.items()},
                "reason": self.reason}


def candidates(freq: str | None) -> tuple[int, ...]:
    """Candidate periods in rows for a pandas frequency (every 15 minutes: 4 per hour, 96 per day)."""
    if not freq:
        return ()
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return ()
    periods = []
    for cycle in CYCLES.get(type(offset).__name__, ()):
        if offset.n >= 1 and cycle % offset.n == 0 and cycle // offset.n > 1:
            periods.append(cycle // offset.n)
    return tuple(periods)


def seasonal_autocorrelation(values: np.ndarray, period: int) -> float | None:
    """Autocorrelation at lag `period` of values minus their centred moving average over `period` rows
    (2 x period for an even one, so it stays centred); with under MIN_CYCLES periods of rows, of the
    first differences (which need two); None with fewer."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    values = values / max(float(np.abs(values).max(initial=0.0)), np.finfo(np.float64).tiny)  # any unit: into [-1, 1]
    if period < 2 or len(values) < 2 * period:
        return None
    if len(values) < MIN_CYCLES * period:
        residual = np.diff(values)
    else:
        trend = _centred_mean(values, period)
        half = (len(values) - len(trend)) // 2
        residual = values[half: half + len(trend)] - trend
    residual = residual - residual.mean()
    denominator = float(residual @ residual)
    if denominator <= 0:
        return None
    return float(residual[:-period] @ residual[period:]) / denominator


def _centred_mean(values: np.ndarray, period: int) -> np.ndarray:
    """The centred moving average over `period` rows (a 2 x period one for an even period)."""
    sums = np.concatenate([[0.0], np.cumsum(values)])
    mean = (sums[period:] - sums[:-period]) / period  # (T - period + 1,)
    if period % 2 == 0:
        mean = (mean[:-1] + mean[1:]) / 2  # (T - period,)
    return mean


def detect_season(train_target: np.ndarray, freq: str | None) -> SeasonFinding:
    """The season confirmed on the training part's target among the frequency's candidates."""
    periods = candidates(freq)
    if not periods:
        return SeasonFinding(None, {}, f"no candidate period for frequency {freq or 'irregular'}")
    scores = {period: _rounded(seasonal_autocorrelation(train_target, period)) for period in periods}
    confirmed = [period for period in periods if scores[period] is not None and scores[period] >= THRESHOLD]
    shown = ", ".join(f"{period}: {'too few rows' if score is None else score}" for period, score in scores.items())
    if not confirmed:
        return SeasonFinding(None, scores, f"no candidate's autocorrelation reached {THRESHOLD} ({shown})")
    best = confirmed[0]
    for period in confirmed[1:]:
        if scores[period] > scores[best] + PREFER_LONGER:
            best = period
    return SeasonFinding(best, scores, f"autocorrelation of the detrended training part at lag {best} is "
                                       f"{scores[best]} (>= {THRESHOLD}; candidates {shown})")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
