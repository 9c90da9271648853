"""The first half of `fit`: CSV or DataFrame -> frame (one series, or many with --id-col) -> the
season-aware recipe -> chronological splits -> train-only scaler -> scaled windows and the model's
sizes (`Prepared`). Every bad-input error of a fit is raised here, before anything is trained or
written. Imports no verb; torch is not loaded (nn/training_data.py is torch-free).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.config import check_task_fits_model, check_training_fits
from forecast_cli.data.calendar import with_calendar
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import build_task_frame, classification_record
from forecast_cli.data.panel import build_panel
from forecast_cli.data.recipe import Recipe, resolve
from forecast_cli.data.windows import (Scaler, Splits, column_range, column_statistics, origins_between,
                                       split_rows)
from forecast_cli.errors import DataError
from forecast_cli.forward import scaled_values
from forecast_cli.loaded import header_looks_like_data, shown_names
from forecast_cli.many import ManyPrepared, prepare_many
from forecast_cli.nn.spec import ModelSpec, check_size
from forecast_cli.notes import note_read, note_series_read
from forecast_cli.store.manifest import (Classification, Configs, derive_model_spec)


@dataclass
class Prepared:
    """Everything decided from the data before training; every bad-input error is raised making it."""

    table: Table
    frame: Frame
    splits: Splits
    scaler: Scaler
    data: object  # nn.training_data.TrainingData
    spec: ModelSpec
    classification: Classification | None  # a classifier's classes (labels.py); None when forecasting
    configs: Configs  # the options with every auto one resolved (recipe.py): what the manifest stores
    recipe: Recipe
    many: ManyPrepared | None = None  # many series (--id-col): the kept series, splits and statistics


def prepare(source, configs: Configs, warn: Callable[[str], None], test_from=None) -> Prepared:
    """CSV -> frame -> splits -> train-only scaler -> scaled windows and the model's sizes."""
    data_config = configs.data
    started = time.perf_counter()
    table = read_source(source)
    _require_header(table, data_config.target_from or data_config.target)
    if data_config.id_col:
        return _prepare_many(table, configs, warn, started, test_from)
    frame = build_task_frame(table, data_config)
    table.release_rows()  # from here on only the frame is needed: the calendar reuses the text columns' memory
    note_read(table.name, table.rows, len(table.raw.columns), time.perf_counter() - started, warn)
    for note in frame.notes:
        warn(note)
    recipe = resolve(data_config, frame.data.iloc[:, 0].to_numpy(dtype="float64"), frame.freq,
                     _seasonal_refused(configs), frame.data.index)
    for note in recipe.notes:
        warn(note)
    frame = with_calendar(frame, recipe.data.calendar, frame.freq, data_config.horizon)  # the parts resolved
    return _with_recipe(table, frame, configs, recipe, warn)


def norm_rival(prepared: Prepared, asked: Configs) -> Prepared | None:
    """The same data prepared under the other normalization, for `--norm auto` to train both and keep
    the one with the lower validation loss (norm_choice.py); None where there is no choice to make: a norm
    given, no season, seasonal ruled out, no validation part, many series, or a rival that would need a
    longer window (the seasonal norm's one season of a daily series' 365 rows: 60 times the training of
    window 20's, 140 s instead of 2.3 s on daily-min-temperatures)."""
    recipe = prepared.recipe
    if (asked.data.norm != "auto" or prepared.many is not None or not prepared.configs.data.season
            or _seasonal_refused(prepared.configs) or len(prepared.data.val_origins) == 0
            or recipe.choices.get("norm", {}).get("part") != "validation"):
        return None
    other = "window" if prepared.configs.data.norm == "seasonal" else "seasonal"
    target = prepared.frame.data.iloc[:, 0].to_numpy(dtype="float64")
    config = replace(asked.data, val_frac=prepared.configs.data.val_frac, season=prepared.configs.data.season,
                     norm=other, calendar=prepared.configs.data.calendar)  # the frame's calendar columns
    rival = resolve(config, target, prepared.frame.freq)
    if rival.data.norm != other or rival.data.window > prepared.configs.data.window:
        return None  # the window cannot hold the season, or a longer one (daily 365) would cost many times more
    choices = {**recipe.choices, "window": rival.choices["window"], "norm": {"chosen": other}}
    rival = replace(rival, choices=choices, baseline_season=recipe.baseline_season, notes=recipe.notes)
    try:
        return _with_recipe(prepared.table, prepared.frame, asked, rival, lambda message: None, prepared)
    except DataError:  # the other window does not fit the data: nothing to compare
        return None


def _with_recipe(table: Table, frame: Frame, configs: Configs, recipe: Recipe, warn: Callable[[str], None],
                 scaled_as: Prepared | None = None) -> Prepared:
    """The frame split, scaled and windowed under the resolved options of `recipe`. `scaled_as`: a
    preparation of the same frame and parts (norm_rival's), whose scaler and scaled rows are shared, not
    made again (the norm does not change them: only the windows' anchors and their length)."""
    from forecast_cli.nn.training_data import TrainingData

    configs = replace(configs, data=recipe.data)
    data_config = configs.data
    data_config.validate()
    check_task_fits_model(data_config, configs.model)
    check_training_fits(data_config, configs.model, configs.train)
    splits = split_rows(len(frame.data), data_config.val_frac, data_config.test_frac,
                        data_config.window, data_config.horizon, table.name)
    if scaled_as is not None and scaled_as.splits == splits:
        scaler, scaled, target = scaled_as.scaler, scaled_as.data.values, scaled_as.data.target
    else:
        scaler = fit_scaler(frame, splits, table.name, warn)
        if configs.train.training == "forking" and data_config.norm == "window":
            inputs = len(frame.spec.numeric)
            scaler = scaler.with_differences(frame.data.iloc[: splits.train_end, :inputs].to_numpy("float64"), inputs)
        scaled = scaled_values(frame, scaler, table.name)
        target = training_target(frame, scaled)
    data = TrainingData(scaled, target,
                        origins_between(0, splits.train_end, data_config.window, data_config.horizon),
                        origins_between(splits.train_end, splits.val_end, data_config.window, data_config.horizon),
                        data_config.window, data_config.horizon, classify=frame.labels is not None,
                        quantiles=configs.model.quantiles)
    classification = (Classification(**classification_record(frame.labels, data.train_origins, data.horizon))
                      if frame.labels else None)
    spec = derive_model_spec(configs, frame.spec, len(frame.labels.classes) if frame.labels else 0, scaler, frame.freq)
    check_size(spec)
    return Prepared(table, frame, splits, scaler, data, spec, classification, configs, recipe)


def _seasonal_refused(configs: Configs) -> str | None:
    """What rules the seasonal normalization out for --norm auto, in words; None when nothing does."""
    if configs.data.task != "forecast":
        return f"--task {configs.data.task} has no forecast to start from seasonal naive"
    if configs.model.decoder != "direct":
        return f"--decoder {configs.model.decoder} is not supported with --norm seasonal"
    if configs.train.training == "forking":
        return "--training forking is not supported with --norm seasonal"
    return None


def _prepare_many(table: Table, configs: Configs, warn: Callable[[str], None], started: float,
                  test_from=None) -> Prepared:
    """Long format: every series split and scaled on its own, one set of training windows across them all."""
    from forecast_cli.nn.train import TrainingData

    config = configs.data
    panel = build_panel(table.raw, table.name, config.target, config.features, config.time_col, config.id_col,
                        config.horizon, config.calendar, train_share=1 - config.val_frac - config.test_frac)
    config = replace(config, calendar=panel.calendar)  # the parts resolved on the longest series
    note_series_read(table.name, len(table.raw), len(panel.ids), time.perf_counter() - started, warn)
    for note in panel.notes:
        warn(note)
    longest = max(panel.frames, key=lambda frame: len(frame.data))
    # One recipe for every series (the longest one's: its season, norm and window); the model is shared.
    recipe = resolve(config, longest.data.to_numpy(dtype="float64")[:, 0], panel.freq, _seasonal_refused(configs))
    recipe.choices["calendar"] = panel.calendar_choice
    for note in recipe.notes:
        warn(f"{note} (decided on the longest series, {panel.ids[panel.frames.index(longest)]!r})")
    configs = replace(configs, data=recipe.data)
    config = configs.data
    config.validate()
    check_task_fits_model(config, configs.model)
    check_training_fits(config, configs.model, configs.train)
    many = prepare_many(panel, config.window, config.horizon, config.val_frac, config.test_frac, warn, table.name,
                        test_from, coded=configs.model.id_embedding > 0)
    columns = panel.frames[0].data.shape[1]  # the inputs, then the calendar's
    scaler = Scaler(np.zeros(columns), np.ones(columns))  # identity: each series' statistics are in many.stats
    data = TrainingData(many.values, many.values[:, 0].copy(), many.train_origins, many.val_origins,
                        config.window, config.horizon)
    spec = derive_model_spec(configs, panel.spec, 0, scaler, panel.freq, len(many.stats.ids))
    check_size(spec)
    longest = max(many.panel.frames, key=lambda frame: len(frame.data))
    splits = Splits(int(sum(s.train_end for s in many.splits)), int(sum(s.val_end for s in many.splits)),
                    int(sum(s.rows for s in many.splits)))
    return Prepared(table, longest, splits, scaler, data, spec, None, configs, recipe, many)


def _require_header(table: Table, target: str) -> None:
    """A file whose header line is missing: the target is not a column and the names read as values."""
    if target not in table.raw.columns and header_looks_like_data(table.raw.columns):
        raise DataError(f"{table.name}: the first line looks like data, not a header "
                        f"({shown_names(table.raw.columns)}); fit needs a header line naming the columns, "
                        f"{target!r} among them. Add it.")


def with_scaler(prepared: Prepared, scaler: Scaler, configs: Configs) -> Prepared:
    """The same rows and splits scaled by another scaler (the training data's other fields kept)."""
    scaled = scaled_values(prepared.frame, scaler, prepared.table.name)
    data = replace(prepared.data, values=scaled, target=training_target(prepared.frame, scaled))
    classes = len(prepared.frame.labels.classes) if prepared.frame.labels else 0
    spec = derive_model_spec(configs, prepared.frame.spec, classes, scaler, prepared.frame.freq)
    return replace(prepared, scaler=scaler, data=data, spec=spec)


def fit_scaler(frame: Frame, splits: Splits, name: str, warn: Callable[[str], None]) -> Scaler:
    """Z-score statistics from the training rows only; constant inputs get a warning. The frame's
    columns are read a block of rows at a time (windows.row_blocks), never stacked whole in float64."""
    train = frame.data.iloc[: splits.train_end]
    columns = frame.data.columns
    low, high = column_range(train)  # one pass for both the statistics and the constant columns
    scaler = Scaler.fit(train, _require_scalable(train, (low, high), columns, name))
    constant = [columns[index] for index in np.flatnonzero(high - low == 0)]
    if columns[0] in constant:
        raise DataError(f"{name}: target column {columns[0]!r} is constant in the training part; "
                        "there is nothing to learn. Choose another --target.")
    if constant:  # one line, however many (one-hot columns of categories seen only later are common)
        shown = ", ".join(map(repr, constant[:5])) + (f" and {len(constant) - 5} more" if len(constant) > 5 else "")
        warn(f"{'column' if len(constant) == 1 else 'columns'} {shown} "
             f"{'is' if len(constant) == 1 else 'are'} constant in the training part; passed through unscaled.")
    return scaler


def training_target(frame: Frame, scaled: np.ndarray) -> np.ndarray:
    """(T,) float32 per row: the target's z-scores, or a classifier's class codes (-1 where undefined)."""
    if frame.labels is not None:
        return frame.labels.codes.astype(np.float32)
    return scaled[:, 0].copy()


def _require_scalable(train: pd.DataFrame, value_range: tuple[np.ndarray, np.ndarray], columns,
                      name: str) -> tuple[np.ndarray, np.ndarray]:
    """Name the column too large to normalize (values beyond float64's max / 16: see column_statistics);
    return the statistics, which the scaler is made of."""
    mean, spread = column_statistics(train, value_range)
    for index in np.flatnonzero(~(np.isfinite(spread) & np.isfinite(mean))):
        largest = float(np.nanmax(np.abs(train.iloc[:, index].to_numpy(dtype="float64"))))
        raise DataError(f"{name}: column {columns[index]!r} holds values too large to normalize (up to "
                        f"{largest:.3g}); rescale it (for example to millions) and retry.")
    return mean, spread
