"""Frozen option records: the CLI fills them, the manifest stores them, every hop reads them.

Imports nothing heavy; validation here covers what can be judged without the data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from forecast_cli.errors import ConfigError

MAX_SEED = 2**32
# Upper bounds of every size: far above any real use, low enough that an edited manifest or a typo
# (--hidden 9999999999999999999) is refused in one line instead of exhausting memory.
MAX_SIZES = {"--window": 100_000, "--horizon": 10_000, "--hidden": 8_192, "--layers": 32,
             "--epochs": 1_000_000, "--batch-size": 10_000_000, "--patience": 1_000_000, "--season": 100_000,
             "--chunk": 10_000_000, "--epoch-size": 1_000_000_000, "--ensemble": 100,
             "--id-embedding": 4_096}


@dataclass(frozen=True)
class DataConfig:
    """How a CSV becomes windows."""

    target: str
    features: tuple[str, ...] | None = None  # None: every numeric column
    time_col: tuple[str, ...] | None = None  # None: detect
    window: int | None = None  # rows of history per sample; None: from the data (recipe.py), 20 without a season
    horizon: int = 1  # future target values predicted per window
    val_frac: float = 0.1  # share of rows, after train, for early stopping
    test_frac: float = 0.2  # share of rows, last, for the report
    # "window": relative to the last observed value; "seasonal": inputs so too, but each forecast step
    # an offset from the value one season before it; "global": plain z-score; "auto": window or seasonal,
    # whichever of naive and seasonal naive scores better on the validation part (recipe.py)
    norm: str = "auto"
    season: int | None = None  # seasonal period; None: detected (data/season.py); 0: none
    task: str = "forecast"  # "forecast": the target's next values; "classify": its class --horizon rows ahead
    target_from: str | None = None  # with classify_direction: the numeric column the up/down label comes from
    classify_direction: bool = False  # label = "up" if target_from is higher --horizon rows later, else "down"
    id_col: tuple[str, ...] | None = None  # long format: the column(s) naming each row's series; one global model
    # "auto": sin/cos of hour, weekday, day of year, month (those that vary, with cycles the training part
    # spans twice and its target follows) as inputs; resolved to the parts ("hour,dayofweek") or "off" before
    # it is saved (data/calendar.py)
    calendar: str = "auto"

    def validate(self) -> None:
        if not self.target:
            raise ConfigError("--target is missing: name the column to forecast (e.g. --target close), or derive "
                              "an up/down label with --target-from COL --classify-direction. See 'forecast fit --help'.")
        _validate_task(self)
        if self.window is not None:
            _positive("--window", self.window)
        _positive("--horizon", self.horizon)
        _fraction("--val-frac", self.val_frac)
        _fraction("--test-frac", self.test_frac)
        if self.val_frac + self.test_frac >= 0.9:
            raise ConfigError(
                f"--val-frac {self.val_frac} + --test-frac {self.test_frac} leave under 10% of rows "
                "for training; lower one of them."
            )
        if self.norm not in NORMS:
            raise ConfigError(f"--norm must be 'auto', 'window', 'seasonal' or 'global', not {self.norm!r}.")
        if self.season:  # None (detect) and 0 (none) need no check
            _positive("--season", self.season)
        if self.id_col is not None and self.task != "forecast":
            raise ConfigError("--id-col trains one forecaster across many series; --task classify is for one "
                              "series. Leave out one of them.")
        parse_calendar(self.calendar)
        if self.norm == "seasonal" and self.season == 0:
            raise ConfigError("--norm seasonal needs a season; leave out --season none, or use --norm window.")
        if self.norm == "seasonal" and self.season and self.window is not None and self.window < self.season:
            raise ConfigError(f"--norm seasonal reads the value one season back: --window {self.window} must be at "
                              f"least --season {self.season} (or leave --window out).")



NORMS = ("auto", "window", "seasonal", "global")
ASEASONAL_WINDOW = 20  # --window auto without a season (the tutorial's 20; the accuracy benchmark kept it)


@dataclass(frozen=True)
class ModelConfig:
    """The network; sizes that follow from the data (features, horizon) are not repeated here."""

    cell: str = "lstm"  # "lstm", "gru", or "linear" (one layer from the window to the horizon, no hidden state)
    hidden_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0  # between stacked layers only (torch semantics)
    bidirectional: bool = False
    decoder: str = "direct"  # "direct": one linear head for all steps; "seq2seq": a decoder cell unrolled per step
    # Quantile levels to forecast (sorted, each in (0, 1)), trained with the pinball loss; () = one point
    # forecast per step, trained with MSE. Changes the outputs, so it lives with the network's options.
    quantiles: tuple[float, ...] = ()
    # direct forecasts of a recurrent cell: add a linear layer from the window to the horizon (nn/spec.py);
    # off in models saved before the option
    highway: bool = True
    # many series (--id-col): a learned vector of this many values per series, joined to the inputs; 0: none
    id_embedding: int = 0

    def validate(self) -> None:
        check_quantiles(self.quantiles)
        if self.cell not in ("lstm", "gru", "linear"):
            raise ConfigError(f"--cell must be 'lstm', 'gru' or 'linear', not {self.cell!r}.")
        if self.cell == "linear":
            _check_linear(self)
        if self.decoder not in ("direct", "seq2seq"):
            raise ConfigError(f"--decoder must be 'direct' or 'seq2seq', not {self.decoder!r}.")
        _positive("--hidden", self.hidden_size)
        _positive("--layers", self.num_layers)
        if not 0.0 <= self.dropout < 1.0:  # also refuses nan
            raise ConfigError(f"--dropout must be in [0, 1), not {self.dropout}.")
        if self.id_embedding < 0:
            raise ConfigError(f"--id-embedding must be 0 (none) or more, not {self.id_embedding}.")
        if self.id_embedding:
            _positive("--id-embedding", self.id_embedding)


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation loop."""

    epochs: int = 100  # an upper bound: early stopping (--patience) usually ends training first
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0  # Adam's L2 penalty, the tutorial's remedy for exploding weights
    clip_grad: float = 1.0  # max global gradient norm; 0 disables clipping
    # epochs without validation improvement before stopping: long enough for the plateau schedule to
    # halve the learning rate three times first (bench/accuracy.py: 10 stopped fits still improving)
    patience: int = 20
    device: str = "auto"
    seed: int = 0
    training: str = "windows"  # "windows": one encoder pass per origin; "forking": one pass per chunk, every step an origin
    chunk: int | None = None  # forking: rows per chunk, the first --window of them a burn-in; None: auto_chunk(window)
    # Forecast origins drawn (anew, at random) for each epoch; None: every origin up to EPOCH_SIZE. Many
    # series make millions of origins, and one pass over them all is hours of steps before validation speaks.
    epoch_size: int | None = None
    ensemble: int = 1  # members trained with seeds seed, seed+1, ...; their forecasts averaged (1: one model)
    per_series: bool = False  # with --id-col: one model per series (per_series.py) instead of one global model
    n_jobs: int = 1  # --per-series: series trained at once (joblib workers; -1: every core)
    backend: str = "loky"  # --per-series: joblib backend (loky, threading, dask, ray)
    # "plateau": the learning rate halves after every PLATEAU_EPOCHS epochs without a better validation
    # loss; "cosine": it falls from --lr to LR_FLOOR x --lr over --epochs (half a cosine); "constant":
    # --lr throughout (models saved before the option trained so)
    lr_schedule: str = "plateau"
    # Validation scores, and the best epoch keeps, an exponential moving average of the weights after
    # every step with this decay (0: the raw weights): early stopping then judges a smoothed model,
    # not the noise of the last steps (bench/ensemble_spread.py: the seed spread)
    ema: float = 0.0

    def validate(self) -> None:
        _positive("--epochs", self.epochs)
        _positive("--batch-size", self.batch_size)
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"--lr must be a number greater than 0, not {self.lr}.")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ConfigError(f"--weight-decay must be a number of 0 or more, not {self.weight_decay}.")
        if not (self.clip_grad >= 0 and math.isfinite(self.clip_grad)):
            raise ConfigError(f"--clip-grad must be 0 (off) or a number above it, not {self.clip_grad}.")
        _positive("--patience", self.patience)
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise ConfigError(f"--device must be auto, cpu, cuda or mps, not {self.device!r}.")
        if self.training not in TRAINING_MODES:
            raise ConfigError(f"--training must be 'windows' or 'forking', not {self.training!r}.")
        if self.chunk is not None:
            _positive("--chunk", self.chunk)
        if self.epoch_size is not None:
            _positive("--epoch-size", self.epoch_size)
        if not 0 <= self.ema < 1:
            raise ConfigError(f"--ema must be 0 (off) or a decay below 1 (for example 0.998), not {self.ema}.")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"--lr-schedule must be 'plateau', 'cosine' or 'constant', not {self.lr_schedule!r}.")
        if not 0 <= self.seed < MAX_SEED:  # NumPy refuses seeds of 2**32 and above
            raise ConfigError(f"--seed must be between 0 and {MAX_SEED - 1}, not {self.seed}.")
        _positive("--ensemble", self.ensemble)
        if self.seed + self.ensemble > MAX_SEED:  # members use seeds seed .. seed+N-1
            raise ConfigError(f"--seed {self.seed} with --ensemble {self.ensemble} needs seeds up to "
                              f"{self.seed + self.ensemble - 1}, past {MAX_SEED - 1}; lower --seed.")


MAX_QUANTILES = 20  # more levels than this describe a distribution no forecaster here estimates that finely


def parse_quantiles(text: str | None) -> tuple[float, ...]:
    """`--quantiles 0.1,0.5,0.9` (text, or numbers from the Python API) -> sorted levels, checked; 0.5, the
    point forecast, is added when absent."""
    if text is None:
        return ()
    parts = [part.strip() for part in text.split(",")] if isinstance(text, str) else list(text)
    try:
        levels = tuple(sorted(float(part) for part in parts if part != ""))
    except (TypeError, ValueError):
        raise ConfigError(f"--quantiles {text!r}: write levels between 0 and 1 separated by commas, "
                          "e.g. --quantiles 0.1,0.5,0.9.") from None
    if not levels:
        raise ConfigError("--quantiles is empty: give levels between 0 and 1, e.g. --quantiles 0.1,0.5,0.9.")
    check_quantiles(levels, needs_median=False)
    return levels if 0.5 in levels else tuple(sorted(levels + (0.5,)))


def check_quantiles(levels: tuple[float, ...], needs_median: bool = True) -> None:
    """Each level in (0, 1), strictly increasing (so no repeats), at most MAX_QUANTILES, distinct names,
    0.5 among them (unless `needs_median` is False: parse_quantiles adds it)."""
    if not levels:
        return
    shown = ",".join(f"{level:g}" for level in levels)
    bad = [level for level in levels if not (isinstance(level, (int, float)) and 0.0 < level < 1.0)]
    if bad:  # also refuses nan
        raise ConfigError(f"--quantiles {shown}: {bad[0]} is not between 0 and 1 (exclusive); "
                          "use levels such as 0.1,0.5,0.9.")
    if len(levels) + (0.5 not in levels) > MAX_QUANTILES:
        raise ConfigError(f"--quantiles gives {len(levels)} levels, more than the {MAX_QUANTILES} this tool "
                          "supports; give fewer.")
    if needs_median and 0.5 not in levels:
        raise ConfigError(f"--quantiles {shown} lacks 0.5, the median, which is the point forecast; add it.")
    names = [quantile_name(level) for level in levels]
    for before, after, name in zip(levels, levels[1:], names[1:]):
        if not before < after or names.count(name) > 1:
            raise ConfigError(f"--quantiles {shown}: {after:g} is given twice (or is not above {before:g}); "
                              "give each level once, in increasing order.")


def quantile_name(level: float) -> str:
    """The column and key name of a level: p + its percentage in up to 6 significant digits
    (0.1 -> p10, 0.025 -> p2.5, 0.999 -> p99.9)."""
    return f"p{level * 100:g}"


def point_quantile(levels: tuple[float, ...]) -> int:
    """Index of the level nearest 0.5 (0.5 itself, which --quantiles always holds): the point forecast's column."""
    return min(range(len(levels)), key=lambda index: (abs(levels[index] - 0.5), levels[index]))


CALENDAR_PARTS = ("hour", "dayofweek", "dayofyear", "month")  # --calendar's parts, in column order (data/calendar.py)


def parse_calendar(mode: str) -> str:
    """--calendar as given -> 'auto', 'off' or its parts comma-separated in column order; one ConfigError
    line for an unknown or repeated part."""
    if mode in ("auto", "off"):
        return mode
    parts = [part.strip() for part in mode.split(",")]
    if any(part not in CALENDAR_PARTS for part in parts) or len(set(parts)) != len(parts):
        raise ConfigError(f"--calendar must be 'auto', 'off' or parts from {', '.join(CALENDAR_PARTS)} separated "
                          f"by commas (for example hour,dayofweek), not {mode!r}.")
    return ",".join(part for part in CALENDAR_PARTS if part in parts)


LR_SCHEDULES = ("plateau", "cosine", "constant")
PLATEAU_EPOCHS = 5  # "plateau": epochs without a better validation loss before the learning rate halves
LR_FLOOR = 0.1  # the cosine schedule's last learning rate, as a share of --lr


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate of 1-based `epoch` under config.lr_schedule ("plateau": its starting one)."""
    if config.lr_schedule != "cosine" or config.epochs <= 1:
        return config.lr
    done = (min(epoch, config.epochs) - 1) / (config.epochs - 1)  # 0 in the first epoch, 1 in the last
    return config.lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * done)))


def _check_linear(model: ModelConfig) -> None:
    """What the linear cell has no use for: it has no hidden state to reverse, stack or decode from."""
    if model.bidirectional:
        raise ConfigError("--cell linear reads the window in one layer, with no direction; leave out --bidirectional.")
    if model.decoder != "direct":
        raise ConfigError(f"--cell linear maps the window straight to the horizon; --decoder {model.decoder} needs "
                          "a recurrent cell (lstm or gru), or use --decoder direct.")
    if model.num_layers > 1:
        raise ConfigError(f"--cell linear is one layer; --layers {model.num_layers} needs a recurrent cell "
                          "(lstm or gru).")


def _validate_task(config: DataConfig) -> None:
    if config.task not in ("forecast", "classify"):
        raise ConfigError(f"--task must be 'forecast' or 'classify', not {config.task!r}.")
    if config.classify_direction and not config.target_from:
        raise ConfigError("--classify-direction needs --target-from COL, the numeric column whose moves are labelled.")
    if config.target_from and not config.classify_direction:
        raise ConfigError(f"--target-from {config.target_from} derives a label; add --classify-direction "
                          "(up if the value --horizon rows later is higher, else down).")
    if config.classify_direction and config.task != "classify":
        raise ConfigError("--classify-direction makes a classifier; use it with --task classify.")


def check_task_fits_model(data: DataConfig, model: ModelConfig) -> None:
    """Options that contradict each other across records: a classifier has one label, not a sequence to decode."""
    if data.task == "classify" and model.quantiles:
        raise ConfigError("--quantiles gives forecast intervals; --task classify predicts class probabilities "
                          "already, so leave out --quantiles.")
    if model.id_embedding and not data.id_col:
        raise ConfigError(f"--id-embedding {model.id_embedding} learns one vector per series; it needs --id-col "
                          "naming the series column(s), or leave it out.")
    if data.id_col and model.quantiles:
        raise ConfigError("--quantiles is not supported with --id-col yet (intervals are per series); leave out "
                          "one of them.")
    if data.task == "classify" and model.decoder != "direct":
        raise ConfigError(f"--decoder {model.decoder} unrolls a forecast sequence; --task classify predicts one "
                          "label, so use --decoder direct.")
    if data.norm == "seasonal" and data.task != "forecast":
        raise ConfigError("--norm seasonal starts forecasts from the seasonal-naive ones; --task classify has "
                          "no forecast to start, so use --norm window or global.")
    if data.norm == "seasonal" and model.decoder != "direct":
        raise ConfigError(f"--norm seasonal is not supported with --decoder {model.decoder} (its steps feed each "
                          "other from the last value); use --decoder direct or --norm window.")


TRAINING_MODES = ("windows", "forking")
EPOCH_SIZE = 200_000  # origins per epoch at most, by default: ~1,600 steps of 128; more data is sampled anew each epoch
FORKING_MIN_CHUNK = 256  # rows; measured in bench/forking.py (shorter chunks repeat the burn-in too often)


def auto_chunk(window: int) -> int:
    """The default --chunk: four windows of rows, at least FORKING_MIN_CHUNK."""
    return max(4 * window, FORKING_MIN_CHUNK)


def check_training_fits(data: DataConfig, model: ModelConfig, train: TrainConfig) -> None:
    """What forking-sequence training cannot do: every step of a chunk is an origin, so nothing may read ahead.
    And an ensemble averages forecasts, which a classifier does not make."""
    if train.ensemble > 1 and data.task != "forecast":
        raise ConfigError(f"--ensemble {train.ensemble} averages forecasts; --task {data.task} predicts a label, "
                          "so use --ensemble 1.")
    if train.per_series and not data.id_col:
        raise ConfigError("--per-series trains one model per series of a long-format file; name the series column "
                          "with --id-col.")
    if data.id_col and train.ensemble > 1:
        raise ConfigError("--ensemble is not supported with --id-col yet; leave out one of them.")
    if train.per_series and model.id_embedding:
        raise ConfigError("--id-embedding tells series apart inside one global model; with --per-series every "
                          "series has its own model. Leave out one of them.")
    if train.per_series and train.ensemble > 1:
        raise ConfigError("--per-series with --ensemble is not supported; leave out one of them.")
    if not (train.n_jobs >= 1 or train.n_jobs == -1):
        raise ConfigError(f"--n-jobs must be 1 or more (or -1 for every core), not {train.n_jobs}.")
    if train.training != "forking":
        return
    if model.cell == "linear":
        raise ConfigError("--cell linear cannot be used with --training forking (it has no encoder pass to share "
                          "across origins); use --training windows.")
    if model.bidirectional:
        raise ConfigError("--bidirectional cannot be used with --training forking: the reverse pass would see "
                          "the future of every forecast origin in a chunk; use --training windows.")
    if model.decoder != "direct":
        raise ConfigError(f"--decoder {model.decoder} is not supported with --training forking (it would unroll "
                          "the decoder at every origin); use --decoder direct or --training windows.")
    if data.task != "forecast":
        raise ConfigError(f"--task {data.task} is not supported with --training forking; use --training windows.")
    if model.id_embedding:
        raise ConfigError(f"--id-embedding {model.id_embedding} is not supported with --training forking; use "
                          "--training windows or leave out --id-embedding.")
    if data.id_col:
        raise ConfigError("--id-col is not supported with --training forking yet (a chunk would run from one series "
                          "into the next); use --training windows.")
    if data.norm == "seasonal":
        raise ConfigError("--norm seasonal is not supported with --training forking (its inputs are differences, "
                          "with no window to read the season from); use --norm window or --training windows.")
    if train.chunk is not None and data.window is not None and train.chunk <= data.window:
        raise ConfigError(f"--chunk {train.chunk} must be more than --window {data.window}: the first --window "
                          "rows of each chunk are its burn-in, which has no loss.")


def parse_window(value: int | str | None) -> int | None:
    """--window as given (auto, or a number of rows) -> DataConfig.window (None: auto)."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    return _whole("--window", value, "auto or a number of rows")


def parse_season(value: int | str | None) -> int | None:
    """--season as given (auto, none, or a period) -> DataConfig.season (None: detect, 0: none)."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    if str(value).strip().lower() == "none":
        return 0
    season = _whole("--season", value, "auto, none, or a number of rows per cycle")
    if season < 1:
        raise ConfigError(f"--season must be 1 or more, not {season} (or none for no season).")
    return season


def _whole(option: str, value: int | str, expected: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{option} must be {expected}, not {value!r}. See 'forecast fit --help'.")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{option} must be {expected}, not {value!r}. See 'forecast fit --help'.") from None


def _positive(option: str, value: int) -> None:
    if value < 1:
        raise ConfigError(f"{option} must be 1 or more, not {value}.")
    if value > MAX_SIZES[option]:
        raise ConfigError(f"{option} {value} is more than the {MAX_SIZES[option]:,} this tool supports; "
                          "choose a smaller value.")


def _fraction(option: str, value: float) -> None:
    if not 0.0 <= value < 0.9:
        raise ConfigError(f"{option} must be in [0, 0.9), not {value}.")


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config record (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(config).items()}
