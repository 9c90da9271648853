"""The options decided from the data: `--season auto`, `--norm auto`, `--window auto`, and a validation
part given up when a short series could not fit otherwise.

Everything is judged on the training and validation parts only (never the test part), in this order:
the season (data/season.py) on the training target; the normalization from the better of naive and
seasonal naive on the validation origins (an untrained model is exactly that baseline, since the head
starts at zero offsets), a first guess that norm_choice.py settles by training the other norm too; then
the window. Returns the resolved DataConfig (what the manifest stores, so predict and evaluate need
nothing else) with a record of every choice and its reason. Never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from forecast_cli.config import ASEASONAL_WINDOW, DataConfig
from forecast_cli.data.calendar import resolve_calendar
from forecast_cli.data.season import detect_season
from forecast_cli.data.timeindex import season_of
from forecast_cli.data.windows import _part_sizes, origins_between
from forecast_cli.errors import ConfigError

SEASONS_PER_WINDOW = 2  # a window of two seasons where the training part allows
LONG_SEASON = 50  # above this, one season per window (daily 365, hourly 168: a recurrent pass per row is slow)
MIN_ORIGINS = 8  # training windows a chosen window should leave before a shorter one is preferred


@dataclass
class Recipe:
    """The resolved data options, the seasonal-naive baseline's period, and why each was chosen."""

    data: DataConfig
    baseline_season: int | None
    choices: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def resolve(config: DataConfig, target: np.ndarray, freq: str | None, seasonal_refused: str | None = None,
            index=None) -> Recipe:
    """Resolve the auto options of `config` for the target (original units, every row) at `freq`.

    `seasonal_refused` names what rules --norm seasonal out (a classifier, seq2seq, forking training):
    --norm auto then stays window. `index`: the rows' timestamps, to resolve --calendar on the training
    part (data/calendar.py); without it --calendar stays as given (many series: applied by the panel)."""
    rows = len(target)
    target = np.asarray(target, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        target = target / max(float(np.nanmax(np.abs(target), initial=0.0)), np.finfo(np.float64).tiny)  # any unit
    choices: dict = {}
    notes: list[str] = []
    config = _fit_validation(config, rows, notes, choices)
    train_end, val, _ = _part_sizes(rows, config.val_frac, config.test_frac, config.horizon)
    season, baseline = _season(config, target[:train_end], freq, choices)
    norm = _norm(config, target, train_end, train_end + val, season, seasonal_refused, choices)
    window = _window(config, train_end, season, norm, choices)
    if norm == "seasonal" and window < season:
        choices["norm"] = {"chosen": "window", "reason": f"a window of {window} rows cannot hold the season {season}"}
        norm = "window"
    calendar = config.calendar
    if index is not None:
        calendar, choices["calendar"] = resolve_calendar(config.calendar, freq, index[:train_end], target[:train_end])
    resolved = replace(config, season=season or 0, norm=norm, window=window, calendar=calendar)
    return Recipe(resolved, baseline, choices, notes)


def _fit_validation(config: DataConfig, rows: int, notes: list[str], choices: dict) -> DataConfig:
    """Give up the validation part when, with an automatic window, the training part could not hold a
    window of a single row plus the horizon otherwise (training then runs its epochs and keeps the
    lowest training loss)."""
    if config.window is not None or config.val_frac == 0:
        return config
    train, _, _ = _part_sizes(rows, config.val_frac, config.test_frac, config.horizon)
    without = _part_sizes(rows, 0.0, config.test_frac, config.horizon)[0]
    if train >= config.horizon + MIN_ORIGINS or without <= train:
        return config
    notes.append(f"{rows} rows are too few for a validation part beside --horizon {config.horizon}: training on "
                 f"{without} rows without one, for the full --epochs (add rows, or lower --horizon, to keep it).")
    choices["val_frac"] = {"asked": config.val_frac, "chosen": 0.0, "reason": "too few rows for a validation part"}
    return replace(config, val_frac=0.0)


def _season(config: DataConfig, train: np.ndarray, freq: str | None, choices: dict) -> tuple[int | None, int | None]:
    """(the season the recipe uses, None for none; the seasonal-naive baseline's period)."""
    if config.season is not None:  # given: N, or 0 for --season none
        choices["season"] = {"chosen": config.season or None, "reason": "given by --season"}
        return config.season or None, config.season or None
    finding = detect_season(train, freq)
    choices["season"] = {"chosen": finding.season, "reason": finding.reason,
                         "candidates": {str(k): v for k, v in finding.candidates.items()}}
    if finding.season is not None:
        return finding.season, finding.season
    return None, season_of(freq)  # none confirmed: the baseline keeps the frequency's period, for comparison


def _norm(config: DataConfig, target: np.ndarray, train_end: int, val_end: int, season: int | None,
          seasonal_refused: str | None, choices: dict) -> str:
    """--norm as given, or for auto: seasonal where seasonal naive beats naive on the validation origins
    (the training origins without a validation part)."""
    if config.norm != "auto":
        if config.norm == "seasonal" and season is None:
            raise ConfigError("--norm seasonal needs a season, and none was found in the training part; "
                              "give one with --season N, or use --norm window.")
        choices["norm"] = {"chosen": config.norm, "reason": "given by --norm"}
        return config.norm
    if season is None or seasonal_refused:
        reason = seasonal_refused or "no season"
        choices["norm"] = {"chosen": "window", "reason": reason}
        return "window"
    start, stop, part = (train_end, val_end, "validation") if val_end > train_end else (0, train_end, "training")
    scores = baseline_scores(target, start, stop, config.horizon, season, naive_scale(target[:train_end]))
    if scores is None:
        choices["norm"] = {"chosen": "window", "reason": f"no {part} origin one season in"}
        return "window"
    naive, seasonal = scores
    chosen = "seasonal" if seasonal < naive else "window"
    verdict = "beat" if chosen == "seasonal" else "did not beat"
    choices["norm"] = {"chosen": chosen, "part": part, "mase": {"naive": naive, "seasonal_naive": seasonal},
                       "reason": f"seasonal naive {verdict} naive on {part}, MASE {seasonal:.3g} vs {naive:.3g}"}
    return chosen


def naive_scale(train: np.ndarray) -> float:
    """Mean absolute one-step change of the training target (MASE's denominator), 1 when it is 0."""
    steps = np.abs(np.diff(np.asarray(train, dtype=np.float64)))
    scale = float(steps.mean()) if len(steps) else 0.0
    return scale if scale > 0 and np.isfinite(scale) else 1.0


def baseline_scores(target: np.ndarray, start: int, stop: int, horizon: int, season: int,
                    scale: float) -> tuple[float, float] | None:
    """(naive, seasonal naive) MASE over the origins whose targets lie in [start, stop) and that have a
    season of history; None when there is none."""
    origins = origins_between(start, stop, season, horizon)
    if len(origins) == 0:
        return None
    steps = np.arange(horizon)
    actual = target[origins[:, None] + steps]  # (N, H)
    naive = target[origins - 1][:, None]  # (N, 1)
    seasonal = target[origins[:, None] + steps - season * (steps // season + 1)]  # (N, H)
    return (round(float(np.nanmean(np.abs(actual - naive))) / scale, 4),
            round(float(np.nanmean(np.abs(actual - seasonal))) / scale, 4))


def _window(config: DataConfig, train_end: int, season: int | None, norm: str, choices: dict) -> int:
    """--window as given, or: two seasons (one for a long season, which only the seasonal norm needs
    in full), else ASEASONAL_WINDOW; shortened to leave MIN_ORIGINS training windows, never below one
    season for the seasonal norm while one fits."""
    if config.window is not None:
        choices["window"] = {"chosen": config.window, "reason": "given by --window"}
        return config.window
    room = train_end - config.horizon  # the longest window leaving one training origin
    if season and season <= LONG_SEASON:
        wanted, why = max(ASEASONAL_WINDOW, SEASONS_PER_WINDOW * season), f"two seasons of {season}"
    elif season and norm == "seasonal":
        wanted, why = season, f"one season of {season} (long seasons get one)"
    else:
        wanted, why = ASEASONAL_WINDOW, "the default without a (short) season"
    floor = season if norm == "seasonal" and season <= room else 1
    window = max(floor, min(wanted, room - MIN_ORIGINS + 1), 1)
    window = min(window, max(room, 1))
    if window < wanted:
        why += f", shortened to {window} to leave training windows in {train_end} rows"
    choices["window"] = {"chosen": window, "reason": why}
    return window
