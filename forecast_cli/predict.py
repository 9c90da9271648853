"""Artifact + frame -> forecasts in original units, with future timestamps.

`Predictor` is the one place that turns scaled windows into target values, shared by fit's
report, `evaluate` and `predict`, so all three see the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.errors import ArtifactError, ConfigError, DataError
from forecast_cli.data.frame import Frame, FrameSpec, rebuild_frame
from forecast_cli.data.io import Table, read_table
from forecast_cli.data.timeindex import future_timestamps
from forecast_cli.data.windows import Scaler, windows_at

RECORDED_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".psv")  # read without being named on the command line
PREDICT_BATCH = 2048  # windows per forward pass
ENGINES = ("torch", "numpy")  # torch: the trained module; numpy: numpy_engine.py, no torch import


@dataclass
class Predictor:
    """A forward function on scaled windows plus what is needed to undo the scaling."""

    forward: Callable[[np.ndarray], np.ndarray]  # (B, L, F) float32 z-scores -> (B, H) z-scores
    scaler: Scaler
    window: int
    horizon: int

    def forecast(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts (N, H) in original units for consecutive origins over a scaled (T, F) series."""
        outputs = forward_windows(self.forward, scaled, origins, self.window, self.horizon)  # (N, H) z-scores
        return self.scaler.target_to_original(outputs)


def forward_windows(forward: Callable[[np.ndarray], np.ndarray], scaled: np.ndarray, origins: np.ndarray,
                    window: int, width: int) -> np.ndarray:
    """The forward pass over the windows of consecutive origins, in batches: (N, width) raw outputs."""
    outputs = []
    for start in range(0, len(origins), PREDICT_BATCH):
        chunk = windows_at(scaled, origins[start: start + PREDICT_BATCH], window)  # (B, L, F) view
        outputs.append(forward(np.array(chunk)))  # a writable copy: torch warns on read-only views
    return np.concatenate(outputs) if outputs else np.empty((0, width))


def torch_forward(model) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a torch module as a numpy-in, numpy-out function on the CPU."""
    import torch

    model = model.to("cpu").eval()

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor(batch)).numpy()  # a copy: window views are read-only

    return forward


def predictor_from_manifest(manifest: dict, weights: dict, engine: str = "torch",
                            where: str = "the weights") -> Predictor:
    """Rebuild the model from the manifest and load weights strictly (names and shapes must match).

    engine "numpy" runs the same model through numpy_engine (weights as numpy arrays), never importing torch.
    """
    if engine == "numpy":
        from forecast_cli.nn.numpy_engine import numpy_forward

        forward = numpy_forward(manifest["model_spec"], weights)
    else:
        forward = torch_forward(torch_model(manifest, weights, where))
    return make_predictor(forward, Scaler.from_dict(manifest["scaler"]), manifest["window"], manifest["horizon"],
                          manifest.get("classification"))


def make_predictor(forward: Callable[[np.ndarray], np.ndarray], scaler: Scaler, window: int, horizon: int,
                   classification: dict | None = None):
    """A forecaster's Predictor, or for a classifier (given its manifest `classification`) a ClassPredictor."""
    if classification is None:
        return Predictor(forward, scaler, window, horizon)
    from forecast_cli.classify import ClassPredictor

    return ClassPredictor(forward, scaler, window, horizon, list(classification["classes"]),
                          classification["majority"])


def torch_model(manifest: dict, weights: dict, where: str):
    """The manifest's Forecaster with `weights` loaded strictly: names, shapes and float types are
    compared first on a storage-free skeleton, so a manifest edited to a huge size is refused
    before anything is allocated."""
    from forecast_cli.nn.model import Forecaster, ModelSpec

    spec = ModelSpec(**manifest["model_spec"])
    check_weights(expected_shapes(spec), weights, where)
    try:
        model = Forecaster(spec)
        model.load_state_dict(weights, strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ArtifactError(f"{where}: do not match the manifest's model ({first}); fit the model again.") from exc
    return model


def expected_shapes(spec) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the model `spec` describes, from a skeleton on torch's meta device."""
    import torch

    from forecast_cli.nn.model import Forecaster

    try:
        with torch.device("meta"):
            skeleton = Forecaster(spec)
    except (RuntimeError, ValueError, OverflowError) as exc:  # sizes past what torch can describe
        raise ArtifactError(f"the manifest describes a model torch cannot build ({str(exc)[:120]}); "
                            "the manifest is damaged or was edited. Fit the model again.") from exc
    return {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()}


def check_weights(expected: dict[str, tuple[int, ...]], weights: dict, where: str) -> None:
    """Refuse weights whose tensor names, shapes or types differ from the model's."""
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        problem = f"lack tensor {missing[0]!r}" if missing else f"hold an unknown tensor {extra[0]!r}"
        raise ArtifactError(f"{where}: {problem} for the manifest's model; the files do not belong together. "
                            "Fit the model again.")
    for name, shape in expected.items():
        tensor = weights[name]
        if tuple(tensor.shape) != shape:
            raise ArtifactError(f"{where}: tensor {name!r} has shape {list(tensor.shape)} but the manifest's model "
                                f"needs {list(shape)}; the files do not belong together. Fit the model again.")
        if "float" not in str(tensor.dtype):
            raise ArtifactError(f"{where}: tensor {name!r} holds {tensor.dtype}, not floating-point numbers; "
                                "fit the model again.")


def frame_spec(manifest: dict) -> FrameSpec:
    frame = manifest["frame"]
    return FrameSpec(frame["target"], tuple(frame["time_cols"]), tuple(frame["numeric"]),
                     {k: list(v) for k, v in frame["categories"].items()}, dict(frame["excluded"]))


def scaled_values(frame: Frame, scaler: Scaler, name: str = "the data") -> np.ndarray:
    """(T, F) float32 z-scores of a frame's inputs, with the training statistics; a value too far
    out to normalize (beyond float32 once scaled) is an error naming its column and row."""
    values = frame.data.to_numpy(dtype="float64")
    if values.shape[1] != len(scaler.mean):
        raise DataError(f"the data gives {values.shape[1]} input columns but the model expects {len(scaler.mean)}.")
    scaled = scaler.transform(values)
    bad = ~np.isfinite(scaled)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        label = frame.data.columns[column]
        raise DataError(
            f"{name}: column {label!r} at {frame.data.index[row]} holds {values[row, column]:.6g}, "
            f"too far from the training values (mean {scaler.mean[column]:.6g}, spread {scaler.scale[column]:.6g}) "
            "to normalize; fix that value or rescale the column."
        )
    return scaled


def forecast_ahead(predictor: Predictor, frame: Frame, freq: str | None) -> pd.DataFrame:
    """The next `horizon` target values after the last row, as `timestamp, step, <target>`;
    for a classifier, the class `horizon` rows ahead (classify.label_ahead)."""
    if not isinstance(predictor, Predictor):
        from forecast_cli.classify import label_ahead

        return label_ahead(predictor, frame, freq)
    rows = require_history(frame, predictor.window)
    values = predictor.forecast(scaled_values(frame, predictor.scaler), np.array([rows]))[0]
    steps = np.arange(1, predictor.horizon + 1)
    return pd.DataFrame({"timestamp": ahead_stamps(frame, freq, predictor.horizon), "step": steps,
                         frame.spec.target: values})


def require_history(frame: Frame, window: int) -> int:
    """The frame's row count, which must hold the `window` rows a forecast after its end reads."""
    rows = len(frame.data)
    if rows < window:
        raise DataError(f"the data has {rows} usable rows but the model needs the last {window}.")
    return rows


def ahead_stamps(frame: Frame, freq: str | None, steps: int) -> list[str]:
    """Timestamps of the `steps` rows after the last one, as text; empty strings where time is unknown."""
    if freq and isinstance(frame.data.index, pd.DatetimeIndex):
        future = future_timestamps(frame.data.index[-1], freq, steps)
        return format_timestamps(future, dates_only=_all_midnight(frame.data.index) and _all_midnight(future))
    return [""] * steps


def format_timestamps(stamps: pd.DatetimeIndex, dates_only: bool) -> list[str]:
    """Dates alone for date-only data, else date and time."""
    if dates_only:
        return [t.strftime("%Y-%m-%d") for t in stamps]
    return [t.isoformat(sep=" ") for t in stamps]


def _all_midnight(stamps: pd.DatetimeIndex) -> bool:
    """Judged on the history too: an hourly series' next step may fall on midnight."""
    return bool((stamps == stamps.normalize()).all())


def open_model(model_dir: str, engine: str = "torch") -> tuple[dict, Predictor]:
    """Load and validate a model directory into its manifest and a ready predictor (torch or numpy engine)."""
    from pathlib import Path

    from forecast_cli.store import artifact

    if engine not in ENGINES:
        raise ConfigError(f"--engine must be {' or '.join(ENGINES)}, not {engine!r}.")
    loaded = artifact.load(Path(model_dir), engine)
    where = str(Path(model_dir) / artifact.WEIGHTS)
    return loaded.manifest, predictor_from_manifest(loaded.manifest, loaded.weights, engine, where)


def data_source(data: str | None, manifest: dict) -> str:
    """The CSV to read: as given, else the training file recorded at fit time (re-read fresh)."""
    if data:
        return data
    recorded = manifest["data"].get("path")
    if not recorded:
        raise DataError("the model was fitted on stdin, so no data file is recorded; pass DATA or '-'.")
    from pathlib import Path

    if not Path(recorded).is_file():
        raise DataError(f"the training file recorded in the model, {recorded}, no longer exists; pass DATA.")
    if Path(recorded).suffix.lower() not in RECORDED_SUFFIXES:
        # A manifest is not trusted to point at any file: an edited one could make predict read
        # (and quote the header of) something that is not data at all.
        raise DataError(f"the data path recorded in the model, {recorded}, is not a .csv/.tsv/.txt file, so it "
                        "is not read unasked; pass DATA.")
    return recorded


def read_frame(source: str, manifest: dict) -> tuple[Frame, Table]:
    """Read a CSV and rebuild the model's inputs from it with the saved frame spec (and a classifier's labels)."""
    table = read_table(source)
    if manifest.get("classification"):
        from forecast_cli.data.labels import rebuild_task_frame

        return rebuild_task_frame(table, frame_spec(manifest), manifest["classification"], manifest["horizon"]), table
    return rebuild_frame(table.raw, table.name, frame_spec(manifest)), table
