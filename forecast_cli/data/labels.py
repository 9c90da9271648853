"""Class labels for `--task classify`: a label column encoded as class codes, or an up/down label
derived from a numeric column; attached to the frame as `Frame.labels`.

A window whose last observed row is t is labelled with the class of row t + horizon. A label column
also stays an input (as its class code), since past labels are part of what is observed.
Never imports torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.config import DataConfig
from forecast_cli.errors import DataError
from forecast_cli.data.frame import Frame, FrameSpec, Labels, build_frame, rebuild_frame
from forecast_cli.data.io import Table

DIRECTION_CLASSES = ["down", "up"]  # code 0, code 1
MAX_CLASSES = 50  # more distinct values than this is a measurement to forecast, not a label


def build_task_frame(table: Table, config: DataConfig) -> Frame:
    """The fit-time frame: plain for forecasting; for classifying, with `labels` attached."""
    if config.task != "classify":
        return build_frame(table.raw, table.name, config.target, config.features, config.time_col, config.horizon)
    if config.classify_direction:
        _require_new_name(table, config.target)
        _require_source(table, config.target_from)
        frame = build_frame(table.raw, table.name, config.target_from, config.features, config.time_col,
                            config.horizon)
        frame.labels = direction_labels(frame, config.horizon, config.target)
        return frame
    classes = label_classes(table.raw, config.target, table.name)
    frame = build_frame(_coded(table, config.target, classes), table.name, config.target, config.features,
                        config.time_col, config.horizon)
    frame.labels = Labels(frame.data[config.target].to_numpy().astype(np.int64), classes, config.target)
    return frame


def rebuild_task_frame(table: Table, spec: FrameSpec, classification, horizon: int) -> Frame:
    """Replay the fit-time frame on new data: same columns; for a classifier (`classification` has its
    `label`, `classes` and `derived_from`, as the manifest's record) the same classes, labels re-derived
    or re-coded. `classification` None: a forecaster's plain frame."""
    if classification is None:
        return rebuild_frame(table.raw, table.name, spec)
    if classification.derived_from:
        frame = rebuild_frame(table.raw, table.name, spec)
        frame.labels = direction_labels(frame, horizon, classification.label)
        return frame
    name, classes = classification.label, classification.classes
    frame = rebuild_frame(_coded(table, name, classes), table.name, spec)
    frame.labels = Labels(frame.data[name].to_numpy().astype(np.int64), list(classes), name)
    return frame


def direction_labels(frame: Frame, horizon: int, name: str) -> Labels:
    """Row s is "up" if the frame's target at s is above its value `horizon` rows earlier, else "down";
    so a window ending at row t is labelled by whether row t + horizon is above row t."""
    values = frame.data[frame.spec.target].to_numpy(dtype="float64")
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[horizon:] = (values[horizon:] > values[:-horizon]).astype(np.int64)
    return Labels(codes, list(DIRECTION_CLASSES), name, derived_from=frame.spec.target)


def label_classes(raw: pd.DataFrame, column: str, name: str) -> list[Any]:
    """The classes of a label column, sorted: ints when every value is a whole number, else strings."""
    if column not in raw.columns:
        raise DataError(f"{name}: label column {column!r} not found (columns: {', '.join(map(str, raw.columns))}). "
                        "Choose it with --target.")
    values = raw[column]
    _refuse_blanks(raw, column, name)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if not np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0):
            raise DataError(f"{name}: label column {column!r} holds fractional numbers (line "
                            f"{_first_fraction(values)}); --task classify needs class labels. To classify the "
                            f"direction of a measurement use --target-from {column} --classify-direction.")
        classes = sorted({int(v) for v in values})
    else:
        classes = sorted({_key(v) for v in values})
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{name}: label column {column!r} has {len(classes)} distinct values, more than "
                        f"{MAX_CLASSES} classes; forecast it instead, or use --target-from {column} "
                        "--classify-direction.")
    if len(classes) < 2:
        raise DataError(f"{name}: label column {column!r} holds one class only ({classes[0]!r}); "
                        "a classifier needs at least two.")
    return classes


def majority_class(labels: Labels, origins: np.ndarray, horizon: int) -> Any:
    """The most frequent label among the given windows (the training ones): the majority baseline's answer."""
    codes = labels.codes[origins + horizon - 1]
    return labels.classes[int(np.bincount(codes[codes >= 0], minlength=len(labels.classes)).argmax())]


def classification_record(labels: Labels, train_origins: np.ndarray, horizon: int) -> dict:
    """What predict and evaluate need to know about the classes; stored in the manifest."""
    rule = (f"up if {labels.derived_from} {horizon} row(s) later is higher, else down" if labels.derived_from
            else None)
    return {"label": labels.name, "classes": labels.classes, "majority": majority_class(labels, train_origins, horizon),
            "derived_from": labels.derived_from, "rule": rule}


def _coded(table: Table, column: str, classes: list[Any]) -> pd.DataFrame:
    """A copy of the raw frame with the label column replaced by class codes; an unknown label is an error."""
    if column not in table.raw.columns:
        raise DataError(f"{table.name}: label column {column!r}, which the model was trained on, is missing "
                        f"(columns: {', '.join(map(str, table.raw.columns))}).")
    _refuse_blanks(table.raw, column, table.name)
    lookup = {str(c): code for code, c in enumerate(classes)}
    keys = table.raw[column].map(_key)
    unknown = ~keys.isin(list(lookup))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{table.name}: label column {column!r} line {row + 2} holds {keys.iloc[row]!r}, which is not "
                        f"one of the model's classes ({', '.join(map(str, classes))}); fit the model on data "
                        "that has it.")
    coded = table.raw.copy()
    coded[column] = keys.map(lookup).astype("int64")
    return coded


def _key(value: Any) -> str:
    """A label as text: whole-number floats as ints (1.0 -> "1"), text stripped."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _refuse_blanks(raw: pd.DataFrame, column: str, name: str) -> None:
    blank = raw[column].isna() | (raw[column].astype(str).str.strip() == "")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataError(f"{name}: label column {column!r} is blank on line {row + 2}; every row needs its label "
                        "(past labels are an input). Fill or remove that row.")


def _first_fraction(values: pd.Series) -> int:
    return int(np.flatnonzero(np.mod(values.to_numpy(dtype="float64"), 1) != 0)[0]) + 2


def _require_new_name(table: Table, name: str) -> None:
    if name in table.raw.columns:
        raise DataError(f"{table.name}: --target {name!r} is already a column; with --target-from the label is "
                        "derived, so give it a new name with --target or leave --target out.")


def _require_source(table: Table, column: str) -> None:
    if column not in table.raw.columns:
        raise DataError(f"{table.name}: --target-from {column!r} is not a column "
                        f"(columns: {', '.join(map(str, table.raw.columns))}).")
