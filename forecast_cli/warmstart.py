"""`fit --warm-start [DIR]`: train on new data starting from a saved model's weights (a nightly retrain).

The saved model must read the same columns with the same shape options; anything else is refused
in one line naming the difference. Its scaler is kept, not refitted: the weights were learned on
inputs in the old scaler's units, so a new mean or spread would change what every input means and
the "before" score would not be the model as deployed. Under the default --norm window the inputs
are relative to each window's last value anyway, so level drift needs no new mean; only the spread
is kept. The MASE scale and the split are the new data's. The fit report then shows the test error
of the old model (before) and of the retrained one (after) on the new data's test part.

Imports no verb: fitting.py calls it (load and check, then describe), the CLI formats its line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from forecast_cli.data.calendar import parts_named
from forecast_cli.errors import ArtifactError, ConfigError
from forecast_cli.forward import build_forward, check_weights, split_baseline
from forecast_cli.predictors import Predictor, make_predictor
from forecast_cli.store import artifact
from forecast_cli.store.manifest import Configs, Manifest

# The options a warm start must share with the saved model (section, field, option name): they set
# the network's shape or the meaning of its inputs and outputs.
SHARED_OPTIONS = (("data", "target", "--target"), ("data", "task", "--task"),
                  ("data", "target_from", "--target-from"), ("data", "window", "--window"),
                  ("data", "horizon", "--horizon"), ("data", "norm", "--norm"), ("model", "cell", "--cell"),
                  ("model", "hidden_size", "--hidden"), ("model", "num_layers", "--layers"),
                  ("model", "bidirectional", "--bidirectional"), ("model", "decoder", "--decoder"),
                  ("train", "training", "--training"))
METRIC_ORDER = ("mase", "mae", "rmse", "mape", "smape", "accuracy", "balanced_accuracy", "macro_f1")


@dataclass
class WarmStart:
    """A saved model to start from: its manifest, its own weights (torch tensors) and its predictor."""

    directory: Path
    manifest: Manifest
    weights: dict
    predictor: Predictor  # the old model as saved: what "before" scores

    @property
    def calendar(self) -> str:
        """The saved model's calendar parts as --calendar names them ('hour,dayofweek', or 'off')."""
        return parts_named(self.manifest.configs.data.calendar, self.manifest.frequency)

    def kept_calendar(self, configs: Configs) -> Configs:
        """With --calendar auto, the saved model's calendar parts: its inputs stay what its weights read,
        where a new choice from the longer data's span (day of year once it spans two years) would not."""
        if configs.data.calendar != "auto":
            return configs
        return replace(configs, data=replace(configs.data, calendar=self.calendar))


def open_start(directory: Path) -> WarmStart:
    """Read the model directory (validated, weights checked against its manifest) to start from."""
    try:
        loaded = artifact.load(Path(directory), "torch")
    except ArtifactError as exc:
        raise ArtifactError(f"--warm-start {directory}: {exc}") from exc
    manifest = loaded.manifest
    own, _ = split_baseline(loaded.weights)  # the linear baseline is refitted from scratch, as in every fit
    where = str(Path(directory) / artifact.WEIGHTS)
    forward = build_forward(manifest.model_spec, own, "torch", where)
    predictor = make_predictor(forward, manifest.scaler, manifest.window, manifest.horizon, manifest.classification)
    return WarmStart(Path(directory), manifest, own, predictor)


def refuse_incompatible(start: WarmStart, configs: Configs, frame_spec, classification) -> None:
    """One ConfigError naming the first difference between the saved model and this fit: an option,
    the input columns, or the classes."""
    old, where = start.manifest, f"--warm-start {start.directory}"
    for section, name, option in SHARED_OPTIONS:
        before, now = getattr(getattr(old.configs, section), name), getattr(getattr(configs, section), name)
        if before != now:
            raise ConfigError(f"{where}: the model there was fitted with {option} {_shown(before)}, this fit has "
                              f"{option} {_shown(now)}; give {option} {_shown(before)} or fit without --warm-start.")
    now = parts_named(configs.data.calendar, old.frequency)
    if start.calendar != now:
        raise ConfigError(f"{where}: the model there reads calendar inputs {start.calendar}, this fit has --calendar "
                          f"{now}; give --calendar {start.calendar} (or leave it out) or fit without --warm-start.")
    if list(old.frame.input_columns) != list(frame_spec.input_columns) or old.frame.time_cols != frame_spec.time_cols:
        raise ConfigError(f"{where}: the model there reads columns {', '.join(old.frame.input_columns)} "
                          f"(time: {', '.join(old.frame.time_cols) or 'none'}); this data gives "
                          f"{', '.join(frame_spec.input_columns)} (time: {', '.join(frame_spec.time_cols) or 'none'}). "
                          "Give the same columns (--features, --time-col) or fit without --warm-start.")
    if (old.classification is None) != (classification is None) or (
            classification is not None and list(old.classification.classes) != list(classification.classes)):
        raise ConfigError(f"{where}: the model there predicts classes {_classes(old.classification)}, this data "
                          f"has {_classes(classification)}; fit without --warm-start.")


def refuse_other_network(start: WarmStart, spec) -> None:
    """The network this fit builds (with the kept scaler) against the saved one: any other size (an option
    another version added, say) named by its field; then the weights' names and shapes strictly."""
    old, where = start.manifest, f"--warm-start {start.directory}"
    for field in fields(spec):
        before, now = getattr(old.model_spec, field.name), getattr(spec, field.name)
        if field.name != "dropout" and before != now:
            raise ConfigError(f"{where}: the network there differs in {field.name} ({_shown(before)} there, "
                              f"{_shown(now)} here); fit with the same options or without --warm-start.")
    check_weights(spec, start.weights, f"{where}/{artifact.WEIGHTS}")


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


def _classes(classification) -> str:
    return "none (it forecasts values)" if classification is None else ", ".join(map(str, classification.classes))


def before_after(start: WarmStart, frame, backtest, season: int | None, mase_scale: float) -> dict:
    """The old model's scores on the origins the new model's test report used, beside the new ones."""
    before = start.predictor.backtest(frame, backtest.origins, season, mase_scale).result["metrics"]
    return {"from": str(start.directory), "from_created_at": start.manifest.created_at,
            "kept_scaler": True, "before": before, "after": backtest.result["metrics"]}


def headline(record: dict) -> tuple[str, float | None, float | None]:
    """The first metric defined before and after (mase, else mae, ...; accuracy for a classifier)."""
    for name in METRIC_ORDER:
        before, after = record["before"].get(name), record["after"].get(name)
        if before is not None and after is not None:
            return name, before, after
    return "mae", None, None


def summary_line(record: dict) -> str:
    """One line for fit's stderr summary: the test error before (the old model) and after."""
    name, before, after = headline(record)
    if before is None:
        return f"warm start from {record['from']}: no test metric is defined before and after."
    return (f"warm start from {record['from']}: test {name} {before:.4g} before (the old model on this test part), "
            f"{after:.4g} after")


def markdown(record: dict) -> str:
    """The section report.md gains: every metric before and after."""
    rows = [f"| {name} | {_number(record['before'].get(name))} | {_number(value)} |"
            for name, value in record["after"].items()]
    return "\n".join([
        "", "## Warm start", "",
        f"Started from the weights of {record['from']} (fitted {record['from_created_at'] or 'at an unknown time'}), "
        "with its scaler kept. Test part: the old model (before) and the retrained one (after).", "",
        "| metric | before | after |", "|---|---|---|", *rows]) + "\n"


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"
