"""`series.safetensors`: the per-series statistics of a many-series model, beside its manifest.

Ten thousand series would make manifest.json unwieldy, so their numbers live here as arrays
(means and spreads (S, F), MASE scales and validation ends (S,)) and their names in the header's
metadata as a JSON list. Read as strictly as the manifest: every shape follows from the manifest,
names are unique text, numbers finite, spreads above 0; nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.data.windows import Scaler
from forecast_cli.errors import ArtifactError

SERIES = "series.safetensors"
ARRAYS = ("mean", "scale", "mase_scale", "val_end")


@dataclass
class SeriesStats:
    """Per series, what predict and evaluate need beside the weights: stored in the model directory's
    series file (store/series.py), in the order of `ids`."""

    ids: list[str]
    mean: np.ndarray  # (S, F) training-part means
    scale: np.ndarray  # (S, F) training-part standard deviations (1 where constant)
    mase_scale: np.ndarray  # (S,) mean absolute one-step change in the training part
    val_end: np.ndarray  # (S,) int64: the last validation row's timestamp (ns), or its row number
    # the model reads each series' code (its position here) as a last input column (--id-embedding):
    # decided by the model (ModelSpec.n_series), not stored in the file
    coded: bool = False

    def scaler(self, position: int) -> Scaler:
        """The series' scaler; for a coded model, one that also appends the series' code column."""
        if self.coded:
            return CodedScaler(self.mean[position], self.scale[position], code=float(position))
        return Scaler(self.mean[position], self.scale[position])

    def position(self) -> dict[str, int]:
        return {series: i for i, series in enumerate(self.ids)}


@dataclass(frozen=True)
class CodedScaler(Scaler):
    """A series' z-scores, then its code as one more, last, column, passed through unscaled (mean 0,
    spread 1): what a model with --id-embedding reads its series' embedding from (nn/model.py)."""

    code: float = 0.0

    def transform(self, values: np.ndarray) -> np.ndarray:
        """(T, F) original units -> (T, F + 1) float32: the z-scores, then the code in every row."""
        scaled = super().transform(values)
        return np.concatenate([scaled, np.full((len(scaled), 1), self.code, dtype=np.float32)], axis=1)


def to_bytes(stats: SeriesStats) -> bytes:
    """SeriesStats -> the file's bytes."""
    from safetensors.numpy import save

    arrays = {"mean": np.ascontiguousarray(stats.mean, dtype="float64"),
              "scale": np.ascontiguousarray(stats.scale, dtype="float64"),
              "mase_scale": np.ascontiguousarray(stats.mase_scale, dtype="float64"),
              "val_end": np.ascontiguousarray(stats.val_end, dtype="int64")}
    return save(arrays, metadata={"ids": json.dumps(list(stats.ids), ensure_ascii=False)})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def from_bytes(data: bytes, count: int, columns: int, sha256: str | None, where: Path, coded: bool = False):
    """The file's bytes -> SeriesStats, after checking them against the manifest's series record
    (`coded`: the model reads each series' code, --id-embedding)."""
    from safetensors.numpy import load

    if sha256 is not None and digest(data) != sha256:
        raise _broken(where, "it is not the file the model was saved with (its sha256 differs)")
    ids = _ids(data, where)
    try:
        arrays = load(data)
    except Exception as exc:  # safetensors raises its own error type for a damaged file
        raise _broken(where, f"it cannot be read ({str(exc)[:120]})") from None
    expected = {"mean": (count, columns), "scale": (count, columns), "mase_scale": (count,), "val_end": (count,)}
    if set(arrays) != set(expected):
        raise _broken(where, f"it holds {sorted(arrays)}, not {sorted(expected)}")
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise _broken(where, f"{name!r} has shape {list(arrays[name].shape)}, the manifest implies {list(shape)}")
    if len(ids) != count:
        raise _broken(where, f"it names {len(ids)} series, the manifest {count}")
    floats = [arrays[name] for name in ("mean", "scale", "mase_scale")]
    if not all(a.dtype == np.float64 and np.isfinite(a).all() for a in floats) or arrays["val_end"].dtype != np.int64:
        raise _broken(where, "it holds values that are not finite numbers of the expected type")
    if (arrays["scale"] <= 0).any() or (arrays["mase_scale"] < 0).any():
        raise _broken(where, "it holds a spread that is not above 0")
    return SeriesStats(ids, arrays["mean"], arrays["scale"], arrays["mase_scale"], arrays["val_end"], coded)


def _ids(data: bytes, where: Path) -> list[str]:
    """The series names from the header's metadata: a JSON list of unique texts."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8: 8 + length])
        ids = json.loads(header["__metadata__"]["ids"])
    except (struct.error, ValueError, KeyError, TypeError):
        raise _broken(where, "its header does not name the series") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        raise _broken(where, "its series names are not a list of distinct texts")
    return ids


def _broken(where: Path, problem: str) -> ArtifactError:
    return ArtifactError(f"{where}: {problem}; fit the model again.")
