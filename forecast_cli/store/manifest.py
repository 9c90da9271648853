"""The one typed owner of `manifest.json`: `Manifest` and its parts read, validate and write it.

Every other module reads fields (`manifest.window`, `manifest.frame.numeric`), never string keys.
Each fact is stored once: the network's sizes (`model_spec`) are derived from the options and the
data's columns, not stored beside them. Reading is strict, since a model directory is untrusted:
a wrong type, a size out of range, an unknown option or parts that disagree are refused with one
line naming the field. Imports no torch (pandas only to check a frequency and a timestamp).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from forecast_cli.config import (MAX_SIZES, DataConfig, ModelConfig, TrainConfig, check_task_fits_model,
                                 check_training_fits, to_dict)
from forecast_cli.data.calendar import calendar_width
from forecast_cli.data.frame import FrameSpec
from forecast_cli.data.windows import Scaler
from forecast_cli.errors import ArtifactError, ConfigError
from forecast_cli.nn.spec import ModelSpec, check_size, decoder_record

FORMAT_VERSION = 2
MAX_CLASSES = 50  # as labels.MAX_CLASSES: more is a measurement, not a label


@dataclass(frozen=True)
class Configs:
    """The fit's options as given (the checkpoint fingerprint and --warm-start compare these)."""

    data: DataConfig
    model: ModelConfig
    train: TrainConfig

    def to_json(self) -> dict[str, dict]:
        return {"data": to_dict(self.data), "model": to_dict(self.model), "train": to_dict(self.train)}


@dataclass(frozen=True)
class DataRecord:
    """Where the training data came from and how it was split; timestamps as ISO text, or row
    numbers (1-based) when the data has no time column."""

    path: str | None  # None: stdin or an in-memory DataFrame
    sha256: str
    val_end: str | int  # last validation row: evaluate scores only after it on overlapping data
    rows: int = 0
    rows_used: int = 0
    dropped_leading_rows: int = 0
    filled_values: int = 0
    first_timestamp: str | int | None = None
    last_timestamp: str | int | None = None
    train_end: str | int | None = None
    splits: dict[str, int] = field(default_factory=dict)
    relative_path: str | None = None  # the file from the model directory (`../data.csv`), when it lies below its parent


@dataclass(frozen=True)
class Classification:
    """What predict and evaluate need to know about a classifier's classes."""

    label: str
    classes: list[Any]
    majority: Any  # the most frequent training label: the majority baseline's answer
    derived_from: str | None = None  # the numeric column of a direction label
    rule: str | None = None


@dataclass(frozen=True)
class Calibration:
    """With --quantiles: per horizon step and interval pair (outermost first), how far each side of the
    interval moves outwards, in target units (intervals.py fits and applies it)."""

    offsets: list[list[float]]  # (H, P)
    part: str = "validation"  # or "training+validation": where the conformity scores came from
    origins: int = 0  # forecast origins scored


@dataclass(frozen=True)
class SeriesRecord:
    """A many-series model (--id-col): how many series it knows; their statistics are in series.safetensors."""

    count: int
    skipped: int = 0  # series of the training data too short to train on
    sha256: str | None = None  # of series.safetensors, filled in by artifact.save; a load checks it


@dataclass(frozen=True)
class TrainingRecord:
    device: str = "cpu"
    best_epoch: int = 0
    epochs_run: int = 0
    stopped_early: bool = False
    seconds: float | None = None


@dataclass(frozen=True)
class Manifest:
    """Everything predict, evaluate, plot and info need, plus provenance."""

    configs: Configs
    data: DataRecord
    frame: FrameSpec
    scaler: Scaler
    frequency: str | None
    season: int | None  # the seasonal-naive period used (config.data.season is what was asked)
    mase_scale: float
    training: TrainingRecord = field(default_factory=TrainingRecord)
    classification: Classification | None = None
    dtypes: dict[str, str] = field(default_factory=dict)  # input columns' dtypes as read at fit time
    metrics: dict[str, float | None] | None = None  # the test part's, as in report.json
    baselines: dict[str, dict] | None = None
    notes: list[str] = field(default_factory=list)
    # What the automatic options (--season, --norm, --window, a dropped validation part) resolved to and
    # why (data/recipe.py): each option -> {"chosen": ..., "reason": ..., ...}. Empty in older models.
    choices: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    # sha256 of model.safetensors, filled in by artifact.save: a load refuses weights it was not saved
    # with. None in models saved before the field existed (and while a fitted model is only in memory).
    weights_sha256: str | None = None
    # With --quantiles: the intervals' widening fitted after training (intervals.py); None otherwise,
    # and in models saved before it existed (their intervals are then the network's own).
    calibration: Calibration | None = None
    series: SeriesRecord | None = None  # many series (--id-col); None for one series

    @property
    def window(self) -> int:
        return self.configs.data.window

    @property
    def horizon(self) -> int:
        return self.configs.data.horizon

    @property
    def task(self) -> str:
        return self.configs.data.task

    @property
    def model_spec(self) -> ModelSpec:
        """The network's sizes, from the options and the data's columns."""
        return derive_model_spec(self.configs, self.frame, len(self.classification.classes) if self.classification else 0,
                                 self.scaler, self.frequency, self.series.count if self.series else 0)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to manifest.json (JSON types only)."""
        frame = self.frame
        return {
            "format_version": FORMAT_VERSION,
            "versions": dict(self.versions),
            "created_at": self.created_at,
            "config": self.configs.to_json(),
            "data": {name.name: getattr(self.data, name.name) for name in fields(DataRecord)},
            "frame": {"target": frame.target, "time_cols": list(frame.time_cols), "numeric": list(frame.numeric),
                      "categories": frame.categories, "excluded": frame.excluded, "dtypes": self.dtypes},
            "frequency": self.frequency,
            "season": self.season,
            "scaler": self.scaler.to_dict(),
            "mase_scale": self.mase_scale,
            "classification": None if self.classification is None else vars(self.classification).copy(),
            "decoder": decoder_record(self.model_spec),  # written for readers; derived, so never read back
            "training": vars(self.training).copy(),
            "metrics": self.metrics,
            "baselines": self.baselines,
            "notes": list(self.notes),
            "choices": self.choices,
            "weights_sha256": self.weights_sha256,
            "calibration": None if self.calibration is None else vars(self.calibration).copy(),
            "series": None if self.series is None else vars(self.series).copy(),
        }

    @classmethod
    def from_json(cls, raw: Any, where: Path) -> Manifest:
        """Validate a parsed manifest.json and build the typed manifest; ArtifactError naming the field."""
        _check_version(raw, where)
        for dotted, check, expected in FIELDS:
            _check(raw, dotted, check, expected, where)
        configs = Configs(*(_config(kind, raw["config"].get(section), section, where)
                            for kind, section in ((DataConfig, "data"), (ModelConfig, "model"), (TrainConfig, "train"))))
        _check_configs(configs, where)
        manifest = cls(
            configs=configs,
            data=_record(DataRecord, raw["data"], "data", where),
            frame=FrameSpec(raw["frame"]["target"], tuple(raw["frame"]["time_cols"]), tuple(raw["frame"]["numeric"]),
                            {k: list(v) for k, v in raw["frame"]["categories"].items()}, dict(raw["frame"]["excluded"])),
            scaler=Scaler.from_dict(raw["scaler"]), frequency=raw["frequency"], season=raw["season"],
            mase_scale=float(raw["mase_scale"]),
            training=_record(TrainingRecord, raw.get("training") or {}, "training", where),
            classification=_record(Classification, raw["classification"], "classification", where)
            if raw.get("classification") is not None else None,
            dtypes=dict(raw["frame"].get("dtypes", {})), metrics=raw.get("metrics"), baselines=raw.get("baselines"),
            notes=list(raw.get("notes") or []), choices=dict(raw.get("choices") or {}), versions=dict(raw["versions"]), created_at=str(raw.get("created_at", "")),
            weights_sha256=raw.get("weights_sha256"),
            calibration=_record(Calibration, raw["calibration"], "calibration", where)
            if raw.get("calibration") is not None else None,
            series=_record(SeriesRecord, raw["series"], "series", where) if raw.get("series") is not None else None,
        )
        _check_frequency(manifest.frequency, where)  # first: the calendar's width depends on it
        _check_agreement(manifest, where)
        _check_scores(manifest, where)
        _check_size(manifest, where)
        _check_val_end(manifest.data.val_end, where)
        return manifest


def derive_model_spec(configs: Configs, frame: FrameSpec, n_classes: int, scaler: Scaler,
                      frequency: str | None = None, n_series: int = 0) -> ModelSpec:
    """The network's sizes: options as given, inputs from the frame's columns (target first) and the
    calendar columns `frequency` implies (data/calendar.py); with forking training and window
    normalization, the spread of the differences the inputs are divided by; with seasonal
    normalization, the season the forecasts start from; with --id-embedding, the `n_series` series
    (of a many-series model) its embedding has a vector for."""
    model, data = configs.model, configs.data
    relative = len(frame.numeric) if data.norm in ("window", "seasonal") else 0
    forking = configs.train.training == "forking" and relative and scaler.difference_scale is not None
    return ModelSpec(n_features=len(frame.input_columns) + calendar_width(data.calendar, frequency),
                     horizon=data.horizon, cell=model.cell,
                     hidden_size=model.hidden_size, num_layers=model.num_layers, dropout=model.dropout,
                     bidirectional=model.bidirectional, relative=relative,
                     decoder=model.decoder, task=data.task, n_classes=n_classes,
                     differences=tuple(float(v) for v in scaler.difference_scale) if forking else (),
                     window=data.window or 0, season=(data.season or 0) if data.norm == "seasonal" else 0,
                     highway=(model.highway and model.cell != "linear" and model.decoder == "direct"
                              and data.task == "forecast" and configs.train.training == "windows"),
                     quantiles=tuple(model.quantiles),
                     n_series=n_series if model.id_embedding else 0, id_embedding=model.id_embedding)


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


def _count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _scores(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _optional(_is_number)(x) for k, x in value.items())


def _sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _classification(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("label"), str) and isinstance(value.get("classes"), list)
            and 2 <= len(value["classes"]) <= MAX_CLASSES
            and all(isinstance(c, str) or _is_int(c) for c in value["classes"])
            and value.get("majority") in value["classes"])


MISSING = object()
# (dotted field, check, what was expected); fields marked optional may be absent.
FIELDS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("versions", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
     "an object of package -> version"),
    ("config", _is_object, "an object"),
    ("config.data", _is_object, "an object"),
    ("config.model", _is_object, "an object"),
    ("config.train", _is_object, "an object"),
    ("data", _is_object, "an object"),
    ("data.path", _optional(lambda v: isinstance(v, str)), "a file path or null"),
    ("data.relative_path", _optional(lambda v: isinstance(v, str)), "a path relative to the model directory or null"),
    ("data.sha256", lambda v: isinstance(v, str), "text"),
    ("data.val_end", lambda v: isinstance(v, str) or _is_int(v), "a timestamp or a row count"),
    ("frame", _is_object, "an object"),
    ("frame.target", lambda v: isinstance(v, str) and v != "", "a column name"),
    ("frame.time_cols", _texts, "a list of column names"),
    ("frame.numeric", lambda v: _texts(v) and bool(v), "a non-empty list of column names"),
    ("frame.categories", lambda v: isinstance(v, dict) and all(_texts(x) for x in v.values()),
     "an object of column -> list of values"),
    ("frame.excluded", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
     "an object of column -> reason"),
    ("frequency", _optional(lambda v: isinstance(v, str)), "a pandas frequency or null"),
    ("season", _optional(lambda v: _positive_int(v) and v <= MAX_SIZES["--season"]),
     f"an integer from 1 to {MAX_SIZES['--season']:,}, or null"),
    ("scaler", _is_object, "an object"),
    ("scaler.mean", _numbers, "a list of finite numbers"),
    ("scaler.scale", lambda v: _numbers(v) and all(item > 0 for item in v), "a list of numbers above 0"),
    ("scaler.difference_scale", lambda v: _numbers(v) and all(item > 0 for item in v), "a list of numbers above 0"),
    ("mase_scale", lambda v: _is_number(v) and v >= 0, "a finite number of 0 or more"),
    ("classification", _optional(_classification),
     f"null or an object with a label, 2 to {MAX_CLASSES} classes and the majority class among them"),
    ("frame.dtypes", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
     "an object of column -> dtype"),
    ("training", _is_object, "an object"),
    ("metrics", _optional(_scores), "an object of metric -> number"),
    ("baselines", _optional(lambda v: isinstance(v, dict) and all(_scores(x) for x in v.values())),
     "an object of baseline -> metric -> number or null"),
    ("notes", _texts, "a list of text"),
    ("choices", lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()),
     "an object of option -> choice"),
    ("decoder", _is_object, "an object"),
    ("weights_sha256", _optional(_sha256), "null or the sha256 of model.safetensors (64 hexadecimal digits)"),
    ("calibration", _optional(_is_object), "null or an object"),
    ("calibration.offsets", lambda v: isinstance(v, list) and all(_numbers(row) or row == [] for row in v),
     "a list of lists of numbers (per step, per interval)"),
    ("calibration.part", lambda v: v in ("validation", "training+validation"), "validation or training+validation"),
    ("calibration.origins", _count, "a count of 0 or more"),
    ("series", _optional(lambda v: isinstance(v, dict) and _positive_int(v.get("count")) and _count(v.get("skipped", 0))
                         and (v.get("sha256") is None or _sha256(v.get("sha256")))),
     "null or an object with the count of series (1 or more) and the sha256 of series.safetensors"),
    # The records' own entries (each may be absent: it then takes its default), as `info` shows them.
    *((f"data.{name}", _count, "a count of 0 or more") for name in ("rows", "rows_used", "dropped_leading_rows",
                                                                   "filled_values")),
    *((f"data.{name}", _optional(lambda v: isinstance(v, str) or _is_int(v)), "a timestamp, a row number or null")
      for name in ("first_timestamp", "last_timestamp", "train_end")),
    ("data.splits", lambda v: isinstance(v, dict) and all(_count(x) for x in v.values()),
     "an object of part -> row count"),
    ("training.device", lambda v: isinstance(v, str), "text"),
    *((f"training.{name}", _count, "a count of 0 or more") for name in ("best_epoch", "epochs_run")),
    ("training.stopped_early", lambda v: isinstance(v, bool), "true or false"),
    ("training.seconds", _optional(_is_number), "a number of seconds or null"),
    *((f"classification.{name}", _optional(lambda v: isinstance(v, str)), "text or null")
      for name in ("derived_from", "rule")),
)
OPTIONAL = {"calibration", "calibration.offsets", "calibration.part", "calibration.origins", "series", "choices",
            "scaler.difference_scale", "data.path", "data.relative_path", "classification", "frame.dtypes", "training", "metrics", "baselines", "notes", "decoder",
            "weights_sha256", *(dotted for dotted, _, _ in FIELDS if dotted.split(".")[0] in ("training", "classification")),
            *(f"data.{name}" for name in ("rows", "rows_used", "dropped_leading_rows", "filled_values", "first_timestamp",
                                          "last_timestamp", "train_end", "splits"))}
COMPARED_WITH = {"forecast": ("naive",), "classify": ("majority", "persistence")}  # the baselines a report shows
# Options added after format version 2 was fixed: a manifest written before them lacks them and takes
# the default (the behaviour of the version that wrote it).
# Options added after format 2 was fixed, each with the behaviour of the versions before it: a manifest
# saved before an option existed loads with that value.
LATER_OPTIONS = {"ensemble": 1, "calendar": "off", "quantiles": (), "epoch_size": None, "id_col": None,
                 "lr_schedule": "constant", "highway": False, "per_series": False, "n_jobs": 1, "backend": "loky",
                 "id_embedding": 0}
CONFIG_NULLABLE: dict[str, tuple[Callable[[Any], bool], str]] = {
    "features": (_texts, "a list of column names or null"),
    "time_col": (_texts, "a list of column names or null"),
    "season": (_count, "an integer of 0 (none) or more, or null"),
    "target_from": (lambda v: isinstance(v, str), "a column name or null"),
    "chunk": (_positive_int, "an integer of 1 or more, or null"),
    "epoch_size": (_positive_int, "an integer of 1 or more, or null"),
    "id_col": (lambda v: _texts(v) and bool(v), "a list of column names or null"),
}

# Options whose default is not a plain bool/int/float/text, checked as stated.
CONFIG_TYPED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "quantiles": (lambda v: isinstance(v, list) and all(_is_number(item) for item in v),
                  "a list of quantile levels between 0 and 1"),
}


# Options added after models were saved without them: the value those models were trained with.
# Options whose default is decided from the data ("auto"): a saved model holds what they resolved to.
CONFIG_RESOLVED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "window": (_is_int, "an integer"),
    "norm": (lambda v: v in ("window", "seasonal", "global"), "'window', 'seasonal' or 'global'"),
}


def _check_version(raw: Any, where: Path) -> None:
    if not isinstance(raw, dict):
        raise ArtifactError(f"{where}: expected a JSON object; fit the model again.")
    version = raw.get("format_version")
    if _is_int(version) and version > FORMAT_VERSION:
        raise ArtifactError(f"{where}: format version {version} is newer than this forecast understands "
                            f"({FORMAT_VERSION}); upgrade forecast.")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ArtifactError(f"{where}: format version {version!r} is not supported (expected {FORMAT_VERSION}); "
                            "fit the model again.")


def _check(raw: dict, dotted: str, check: Callable[[Any], bool], expected: str, where: Path) -> None:
    value = _lookup(raw, dotted)
    if value is MISSING:
        if dotted in OPTIONAL:
            return
        raise broken(where, f"field {dotted!r} is missing")
    if not check(value):
        raise broken(where, f"field {dotted!r} is {_shown(value)}, expected {expected}")


def _lookup(raw: dict, dotted: str) -> Any:
    value: Any = raw
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _shown(value: Any) -> str:
    try:
        shown = repr(value)
    except ValueError:  # an integer of thousands of digits refuses to become text
        return "a number too long to show"
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _config(kind: type, raw: dict, section: str, where: Path):
    """One option record, every key known and of its default's type, then range-checked like the CLI's.
    A key in LATER_OPTIONS that a model saved by an earlier version lacks takes the value recorded there."""
    names = {f.name: f for f in fields(kind)}
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise broken(where, f"field 'config.{section}.{unknown[0]}' is not part of this format")
    values = {}
    for name, spec in names.items():
        dotted = f"config.{section}.{name}"
        if name not in raw and name in LATER_OPTIONS:  # a manifest from before the option: as it behaved then
            values[name] = LATER_OPTIONS[name]
            continue
        if name not in raw:
            raise broken(where, f"field {dotted!r} is missing")
        value = raw[name]
        check, expected = (CONFIG_TYPED.get(name) or CONFIG_NULLABLE.get(name) or CONFIG_RESOLVED.get(name)
                           or _typed_like(spec.default))
        if not ((name in CONFIG_NULLABLE and value is None) or check(value)):
            raise broken(where, f"field {dotted!r} is {_shown(value)}, expected {expected}")
        values[name] = tuple(value) if isinstance(value, list) else value
    return kind(**values)


def _typed_like(default: Any) -> tuple[Callable[[Any], bool], str]:
    """The check for an option field from its default's type (a field without a default is text)."""
    if isinstance(default, bool):
        return (lambda v: isinstance(v, bool)), "true or false"
    if isinstance(default, int):
        return _is_int, "an integer"
    if isinstance(default, float):
        return _is_number, "a number"
    return (lambda v: isinstance(v, str)), "text"


def _check_configs(configs: Configs, where: Path) -> None:
    try:
        for config in (configs.data, configs.model, configs.train):
            config.validate()
        check_task_fits_model(configs.data, configs.model)
        check_training_fits(configs.data, configs.model, configs.train)
    except ConfigError as exc:
        raise broken(where, f"its options are out of range ({str(exc).rstrip('.')})") from None


def _record(kind: type, raw: Any, name: str, where: Path):
    """A plain record of known keys; a key of another format is refused, missing ones take defaults."""
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(raw) - known) if isinstance(raw, dict) else []
    if not isinstance(raw, dict) or unknown:
        problem = f"field '{name}.{unknown[0]}' is not part of this format" if unknown else f"{name!r} is not an object"
        raise broken(where, problem)
    try:
        return kind(**raw)
    except TypeError:
        raise broken(where, f"field {name!r} lacks a required entry") from None


def _check_agreement(manifest: Manifest, where: Path) -> None:
    """Parts that must fit together: the scaler has one statistic per input, the target comes first."""
    inputs = len(manifest.frame.input_columns) + calendar_width(manifest.configs.data.calendar, manifest.frequency)
    for name in ("mean", "scale"):
        stated = len(getattr(manifest.scaler, name))
        if stated != inputs:
            raise broken(where, f"scaler.{name} gives {stated} statistics but frame.numeric and frame.categories "
                                f"(with the calendar) give {inputs} inputs")
    frame = manifest.frame
    differenced = manifest.configs.train.training == "forking" and manifest.configs.data.norm == "window"
    differences = manifest.scaler.difference_scale
    if differenced and (differences is None or len(differences) != len(frame.numeric)):
        stated = "is missing" if differences is None else f"gives {len(differences)} statistics"
        raise broken(where, f"scaler.difference_scale {stated} but forking training with window normalization "
                            f"needs one per numeric column ({len(frame.numeric)})")
    if frame.numeric[0] != frame.target:
        raise broken(where, f"frame.numeric starts with {frame.numeric[0]!r}, not the target {frame.target!r}")
    if (manifest.task == "classify") != (manifest.classification is not None):
        raise broken(where, f"config.data.task is {manifest.task!r} but classification is "
                            f"{'missing' if manifest.classification is None else 'set'}")
    _check_calibration(manifest, where)
    if bool(manifest.configs.data.id_col) != (manifest.series is not None):
        raise broken(where, f"config.data.id_col is {list(manifest.configs.data.id_col or []) or None} but series "
                            f"is {'missing' if manifest.series is None else 'set'}")
    val_end = manifest.data.val_end
    if isinstance(val_end, str) != bool(frame.time_cols):  # evaluate reads it by that type
        expected = "a timestamp" if frame.time_cols else "a row count (there is no time column)"
        raise broken(where, f"data.val_end is {val_end!r}, expected {expected}")


def _check_calibration(manifest: Manifest, where: Path) -> None:
    """Interval offsets only with quantiles, one row per horizon step, one value per interval pair."""
    calibration, quantiles = manifest.calibration, manifest.configs.model.quantiles
    if calibration is None:
        return
    pairs = min(sum(level < 0.5 for level in quantiles), sum(level > 0.5 for level in quantiles))
    expected = (manifest.horizon, pairs)
    shape = (len(calibration.offsets), *{len(row) for row in calibration.offsets})
    if not quantiles or shape != expected:
        raise broken(where, f"field 'calibration.offsets' has shape {list(shape)}, but config.model.quantiles "
                            f"{list(quantiles)} with horizon {manifest.horizon} need {list(expected)}")


def _check_scores(manifest: Manifest, where: Path) -> None:
    """Test metrics come with the baselines they are shown beside, each scored wherever the model is."""
    metrics = manifest.metrics
    if metrics is None:
        return
    if manifest.task == "classify" and metrics.get("accuracy") is None:
        raise broken(where, "field 'metrics' of a classifier lacks its accuracy")
    for name in COMPARED_WITH[manifest.task]:
        baseline = (manifest.baselines or {}).get(name)
        if baseline is None:
            raise broken(where, f"field 'baselines' lacks {name!r}, which the test metrics are compared with")
        for metric, value in metrics.items():
            if value is not None and baseline.get(metric) is None:
                raise broken(where, f"field 'baselines.{name}.{metric}' is missing or null where "
                                    f"metrics.{metric} is a number")


def _check_size(manifest: Manifest, where: Path) -> None:
    """Sizes each within their bound can still make a network no machine holds: refused before any use."""
    try:
        check_size(manifest.model_spec)
    except ConfigError as exc:
        raise broken(where, f"its model is too large ({str(exc).rstrip('.')})") from None


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
