"""The manifest's schema: every field that predict, evaluate, plot and info read, checked for type,
range and agreement before use, so an edited or damaged `manifest.json` is refused with one line
instead of failing deep inside. Imports nothing heavy (pandas only to check a frequency).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from forecast_cli.errors import ArtifactError

# ModelSpec's fields (model.py imports torch, so they are listed here; a test keeps the two equal).
MODEL_SPEC_KEYS = frozenset({"n_features", "horizon", "cell", "hidden_size", "num_layers", "dropout",
                             "bidirectional", "relative", "decoder", "task", "n_classes"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_number(item) for item in value)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


# (dotted field, check, what was expected): each must hold for the manifest to be used.
FIELDS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("tool_version", lambda v: isinstance(v, str), "text"),
    ("window", _positive_int, "an integer of 1 or more"),
    ("horizon", _positive_int, "an integer of 1 or more"),
    ("model_spec", lambda v: isinstance(v, dict), "an object"),
    ("model_spec.n_features", _positive_int, "an integer of 1 or more"),
    ("model_spec.horizon", _positive_int, "an integer of 1 or more"),
    ("model_spec.cell", lambda v: v in ("lstm", "gru"), "'lstm' or 'gru'"),
    ("model_spec.hidden_size", _positive_int, "an integer of 1 or more"),
    ("model_spec.num_layers", _positive_int, "an integer of 1 or more"),
    ("model_spec.dropout", lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    ("model_spec.bidirectional", lambda v: isinstance(v, bool), "true or false"),
    ("model_spec.relative", lambda v: _is_int(v) and v >= 0, "an integer of 0 or more"),
    ("model_spec.decoder", lambda v: v in ("direct", "seq2seq"), "'direct' or 'seq2seq'"),
    ("model_spec.task", lambda v: v in ("forecast", "classify"), "'forecast' or 'classify'"),
    ("model_spec.n_classes", lambda v: _is_int(v) and v >= 0, "an integer of 0 or more"),
    ("scaler.mean", _numbers, "a list of finite numbers"),
    ("scaler.scale", lambda v: _numbers(v) and all(item > 0 for item in v), "a list of numbers above 0"),
    ("frame.target", lambda v: isinstance(v, str) and v != "", "a column name"),
    ("frame.time_cols", _texts, "a list of column names"),
    ("frame.numeric", lambda v: _texts(v) and bool(v), "a non-empty list of column names"),
    ("frame.categories", lambda v: isinstance(v, dict) and all(_texts(x) for x in v.values()),
     "an object of column -> list of values"),
    ("frame.excluded", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
     "an object of column -> reason"),
    ("frame.input_columns", _texts, "a list of column names"),
    ("data.path", _optional(lambda v: isinstance(v, str)), "a file path or null"),
    ("data.sha256", lambda v: isinstance(v, str), "text"),
    ("data.val_end", lambda v: isinstance(v, str) or _is_int(v), "a timestamp or a row count"),
    ("frequency", _optional(lambda v: isinstance(v, str)), "a pandas frequency or null"),
    ("season", _optional(_positive_int), "an integer of 1 or more, or null"),
    ("mase_scale", lambda v: _is_number(v) and v >= 0, "a finite number of 0 or more"),
    ("config.data.norm", lambda v: v in ("window", "global"), "'window' or 'global'"),
    ("config.model", lambda v: isinstance(v, dict), "an object"),
    ("config.train", lambda v: isinstance(v, dict), "an object"),
)
OPTIONAL_FIELDS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("versions", lambda v: isinstance(v, dict), "an object"),
    ("training", lambda v: isinstance(v, dict), "an object"),
    ("data.splits", lambda v: isinstance(v, dict), "an object"),
    ("metrics", _optional(lambda v: isinstance(v, dict) and all(_optional(_is_number)(x) for x in v.values())),
     "an object of metric -> number"),
    ("frame.dtypes", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
     "an object of column -> dtype"),
    ("decoder", lambda v: isinstance(v, dict), "an object"),
    ("task", lambda v: v in ("forecast", "classify"), "'forecast' or 'classify'"),
    ("classification", _optional(lambda v: isinstance(v, dict) and isinstance(v.get("classes"), list)
                                 and len(v["classes"]) >= 2 and v.get("majority") in v["classes"]),
     "null or an object with a list of 2 or more classes and the majority class among them"),
    ("baselines", _optional(lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())),
     "an object of baseline -> metrics"),
)
MISSING = object()


def check_fields(manifest: dict, where: Path) -> None:
    """Refuse a manifest whose fields have the wrong type or range, or do not agree with each other."""
    for dotted, check, expected in FIELDS:
        _check(manifest, dotted, check, expected, where, required=True)
    unknown = sorted(set(manifest["model_spec"]) - MODEL_SPEC_KEYS)
    if unknown:
        raise broken(where, f"field 'model_spec.{unknown[0]}' is not part of this format")
    for dotted, check, expected in OPTIONAL_FIELDS:
        _check(manifest, dotted, check, expected, where, required=False)
    _check_agreement(manifest, where)
    _check_frequency(manifest["frequency"], where)
    _check_val_end(manifest["data"]["val_end"], where)


def _check(manifest: dict, dotted: str, check: Callable[[Any], bool], expected: str, where: Path,
           required: bool) -> None:
    value = _lookup(manifest, dotted)
    if value is MISSING:
        if required:
            raise broken(where, f"field {dotted!r} is missing")
        return
    if not check(value):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise broken(where, f"field {dotted!r} is {shown}, expected {expected}")


def _lookup(manifest: dict, dotted: str) -> Any:
    value: Any = manifest
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _check_agreement(manifest: dict, where: Path) -> None:
    """Sizes stated in several places must be equal: the model is rebuilt from one, the data from another."""
    spec, frame, scaler = manifest["model_spec"], manifest["frame"], manifest["scaler"]
    onehot = [f"{column}={value}" for column, values in frame["categories"].items() for value in values]
    inputs = frame["numeric"] + onehot
    pairs = (
        ("scaler.mean", len(scaler["mean"]), "model_spec.n_features", spec["n_features"]),
        ("scaler.scale", len(scaler["scale"]), "model_spec.n_features", spec["n_features"]),
        ("frame.input_columns", len(frame["input_columns"]), "model_spec.n_features", spec["n_features"]),
        ("horizon", manifest["horizon"], "model_spec.horizon", spec["horizon"]),
    )
    for first, first_value, second, second_value in pairs:
        if first_value != second_value:
            raise broken(where, f"{first} gives {first_value} but {second} gives {second_value}")
    if frame["input_columns"] != inputs:
        raise broken(where, "frame.input_columns does not match frame.numeric and frame.categories")
    if frame["numeric"][0] != frame["target"]:
        raise broken(where, f"frame.numeric starts with {frame['numeric'][0]!r}, not the target {frame['target']!r}")
    classes = (manifest.get("classification") or {}).get("classes", [])
    if spec["task"] == "classify" and spec["n_classes"] != len(classes):
        raise broken(where, f"model_spec.n_classes {spec['n_classes']} does not match the {len(classes)} classes "
                            "in classification.classes")
    if isinstance(manifest["data"]["val_end"], str) != bool(frame["time_cols"]):  # evaluate reads it by that type
        expected = "a timestamp" if frame["time_cols"] else "a row count (there is no time column)"
        raise broken(where, f"data.val_end is {manifest['data']['val_end']!r}, expected {expected}")
    if spec["relative"] > len(frame["numeric"]):
        raise broken(where, f"model_spec.relative {spec['relative']} is more than the {len(frame['numeric'])} "
                            "numeric columns")


def _check_frequency(freq: str | None, where: Path) -> None:
    if freq is None:
        return
    import pandas as pd

    try:
        pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise broken(where, f"field 'frequency' is {freq!r}, not a pandas frequency") from None


def _check_val_end(val_end: str | int, where: Path) -> None:
    if not isinstance(val_end, str):
        return
    import pandas as pd

    try:
        pd.Timestamp(val_end)
    except (ValueError, TypeError):
        raise broken(where, f"field 'data.val_end' is {val_end[:60]!r}, not a timestamp") from None


def broken(where: Path, problem: str) -> ArtifactError:
    """The one wording for a manifest that cannot be trusted."""
    return ArtifactError(f"{where}: {problem}; the manifest is damaged or was edited. Fit the model again.")
