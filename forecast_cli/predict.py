"""Artifact + frame -> forecasts in original units, with future timestamps.

`Predictor` is the one place that turns scaled windows into target values, shared by fit's
report, `evaluate` and `predict`, so all three see the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from forecast_cli.errors import ArtifactError, DataError
from forecast_cli.frame import Frame, FrameSpec, rebuild_frame
from forecast_cli.io import Table, read_table
from forecast_cli.timeindex import future_timestamps
from forecast_cli.windows import Scaler, windows_at

PREDICT_BATCH = 2048  # windows per forward pass


@dataclass
class Predictor:
    """A forward function on scaled windows plus what is needed to undo the scaling."""

    forward: Callable[[np.ndarray], np.ndarray]  # (B, L, F) float32 z-scores -> (B, H) z-scores
    scaler: Scaler
    window: int
    horizon: int

    def forecast(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts (N, H) in original units for consecutive origins over a scaled (T, F) series."""
        outputs = []
        for start in range(0, len(origins), PREDICT_BATCH):
            chunk = windows_at(scaled, origins[start: start + PREDICT_BATCH], self.window)  # (B, L, F) view
            outputs.append(self.forward(np.ascontiguousarray(chunk)))
        if not outputs:
            return np.empty((0, self.horizon))
        return self.scaler.target_to_original(np.concatenate(outputs))


def torch_forward(model) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a torch module as a numpy-in, numpy-out function on the CPU."""
    import torch

    model = model.to("cpu").eval()

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor(batch)).numpy()  # a copy: window views are read-only

    return forward


def predictor_from_manifest(manifest: dict, weights: dict, where: str = "the weights") -> Predictor:
    """Rebuild the model from a validated manifest and load weights strictly: names, shapes and
    float types are compared first on a storage-free skeleton, so a manifest edited to a huge size
    is refused before anything is allocated."""
    from forecast_cli.model import Forecaster, ModelSpec

    spec = ModelSpec(**manifest["model_spec"])
    check_weights(expected_shapes(spec), weights, where)
    try:
        model = Forecaster(spec)
        model.load_state_dict(weights, strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ArtifactError(f"{where}: do not match the manifest's model ({first}); fit the model again.") from exc
    return Predictor(torch_forward(model), Scaler.from_dict(manifest["scaler"]), manifest["window"],
                     manifest["horizon"])


def expected_shapes(spec) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the model `spec` describes, from a skeleton on torch's meta device."""
    import torch

    from forecast_cli.model import Forecaster

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
    """The next `horizon` target values after the last row, as `timestamp, step, <target>`."""
    rows = len(frame.data)
    if rows < predictor.window:
        raise DataError(f"the data has {rows} usable rows but the model needs the last {predictor.window}.")
    values = predictor.forecast(scaled_values(frame, predictor.scaler), np.array([rows]))[0]
    steps = np.arange(1, predictor.horizon + 1)
    if freq and isinstance(frame.data.index, pd.DatetimeIndex):
        stamps = format_timestamps(future_timestamps(frame.data.index[-1], freq, predictor.horizon))
    else:
        stamps = [""] * predictor.horizon
    return pd.DataFrame({"timestamp": stamps, "step": steps, frame.spec.target: values})


def format_timestamps(stamps: pd.DatetimeIndex) -> list[str]:
    """Dates alone when every stamp is at midnight, else date and time."""
    if (stamps == stamps.normalize()).all():
        return [t.strftime("%Y-%m-%d") for t in stamps]
    return [t.isoformat(sep=" ") for t in stamps]


def open_model(model_dir: str, engine: str = "torch") -> tuple[dict, Predictor]:
    """Load and validate a model directory into its manifest and a ready predictor."""
    from pathlib import Path

    from forecast_cli import artifact

    loaded = artifact.load(Path(model_dir), engine)
    where = str(Path(model_dir) / artifact.WEIGHTS)
    return loaded.manifest, predictor_from_manifest(loaded.manifest, loaded.weights, where)


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
    return recorded


def read_frame(source: str, manifest: dict) -> tuple[Frame, Table]:
    """Read a CSV and rebuild the model's inputs from it with the saved frame spec."""
    table = read_table(source)
    return rebuild_frame(table.raw, table.name, frame_spec(manifest)), table
