"""The model directory: `manifest.json`, `model.safetensors`, `history.csv`, `report.json`, `report.md`.

Saved through a staging directory and an atomic swap; loaded without unpickling anything:
weights via safetensors, the rest JSON read and validated by manifest.Manifest. Every file is read
through one handle on the directory, and only if it is a regular file (not a link) within its bound
(snapshot.py). Paths read from a manifest are only ever read, never written to.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

from forecast_cli.errors import ArtifactError
from forecast_cli.store.atomic import publish, real_path, remove_stale, staging_dir
from forecast_cli.nn.spec import LINEAR_PREFIX, ensemble_shapes, expected_shapes, per_series_shapes
from forecast_cli.store import series as series_file
from forecast_cli.store.manifest import FORMAT_VERSION, Manifest  # noqa: F401 (FORMAT_VERSION: re-exported)
from forecast_cli.store.snapshot import MIB, Snapshot, open_snapshot
from forecast_cli.store.weights import byte_limit, check_header

MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
HISTORY = "history.csv"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SAFETENSORS_HEADER_START = 8  # a u64 header length, then the JSON header's "{"
PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+, and the zip that torch.save writes
# Bounds checked before a file is read (the weights' bound follows from the manifest's model, weights.py):
# far above what a fit writes (a history row per epoch, up to a million epochs), far below a planted file.
MANIFEST_LIMIT = 16 * MIB
HISTORY_LIMIT = 128 * MIB
REPORT_LIMIT = 64 * MIB
SERIES_BYTES_PER_SERIES = 4096  # ids up to a few hundred characters and 2 x F statistics, F up to ~200
T = TypeVar("T")


@dataclass
class Artifact:
    """A loaded model directory: the manifest, the weights as CPU tensors or numpy arrays, and the
    training history's bytes as read with them (parsed on use: only `plot` draws it)."""

    path: Path
    manifest: Manifest
    weights: dict[str, Any]
    history_csv: bytes | None = None  # None: the directory holds no history.csv
    series: series_file.SeriesStats | None = None  # a many-series model's per-series statistics


class Replaced(ArtifactError):
    """The directory changed under a read (a refit's swap, or a copy over its files): read it again, once."""


def save(out: Path, manifest: Manifest, weights: dict, history: list[dict], report: dict, report_md: str,
         series: series_file.SeriesStats | None = None) -> Manifest:
    """Write every file into a staging directory, then swap it in place of `out`; returns the manifest as
    written (with the sha256 of the weights file, and of a many-series model's series file, which a load
    checks)."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    out = real_path(out)
    check_writable_target(out)
    remove_stale(out)
    try:
        staged = staging_dir(out)
    except OSError as exc:
        raise _not_written(out, exc) from exc
    try:
        save_file({k: v.contiguous() for k, v in weights.items()}, str(staged / WEIGHTS))
        manifest = replace(manifest, weights_sha256=hashlib.sha256((staged / WEIGHTS).read_bytes()).hexdigest())
        if series is not None:
            data = series_file.to_bytes(series)
            (staged / series_file.SERIES).write_bytes(data)
            manifest = replace(manifest, series=replace(manifest.series, sha256=series_file.digest(data)))
        (staged / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
        _write_history(staged / HISTORY, history)
        (staged / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (staged / REPORT_MD).write_text(report_md, encoding="utf-8")
        publish(staged, out)
    except (OSError, SafetensorError) as exc:  # disk full, quota, a folder removed under us: known only now
        shutil.rmtree(staged, ignore_errors=True)
        raise _not_written(out, exc) from exc
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return manifest


def copy_directory(source: Path, out: Path, loaded: Manifest | None = None) -> None:
    """Copy a model directory's files to `out` through a staging directory and the same atomic swap;
    the source is read like any model directory (one handle, bounded regular files, validated) and,
    given the manifest `loaded` from it earlier, refused if a refit has replaced it since."""
    out = real_path(out)
    check_writable_target(out)
    if source.resolve() == out.resolve():
        return
    files = consistently(_read_files, source)
    now = Manifest.from_json(json.loads(files[MANIFEST].decode()), source / MANIFEST)
    if loaded is not None and now.to_json() != loaded.to_json():
        raise ArtifactError(f"{source}: changed since this model was loaded (fitted again?), so its files are not "
                            "this model's; load it again, then save.")
    remove_stale(out)
    staged = staging_dir(out)
    try:
        for name, data in files.items():
            (staged / name).write_bytes(data)
        publish(staged, out)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise _not_written(out, exc) from exc


def _read_files(source: Path) -> dict[str, bytes]:
    """Every file of a model directory that exists, as bytes, the manifest validated on the way."""
    with open_snapshot(source) as snapshot:
        typed, manifest, weights = _manifest_and_weights(snapshot)
        limits = {HISTORY: (HISTORY_LIMIT, "a training history"), REPORT_JSON: (REPORT_LIMIT, "a report"),
                  REPORT_MD: (REPORT_LIMIT, "a report")}
        files = {name: snapshot.read(name, limit, what) for name, (limit, what) in limits.items()}
        files[series_file.SERIES] = _series_bytes(snapshot, typed)
    files.update({MANIFEST: manifest, WEIGHTS: weights})
    return {name: data for name, data in files.items() if data is not None}


def _not_written(out: Path, exc: Exception) -> ArtifactError:
    reason = write_failure(exc)
    return ArtifactError(f"--out {out}: the model could not be written ({reason}); nothing was replaced. "
                         "Free some space or choose another --out, then fit again.")


def write_failure(exc: Exception) -> str:
    """Why a write failed, in a few words: the OS's reason, or what safetensors says (it wraps I/O errors)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip().split("serializing: ")[-1][:120] or type(exc).__name__


def check_writable_target(out: Path) -> None:
    """Refuse an `--out` that is a file or a directory of something else, before any training."""
    try:
        _check_writable_target(out)
    except OSError as exc:  # a name too long for the filesystem, a folder that cannot be listed
        raise ArtifactError(f"--out {out}: cannot be used ({exc.strerror}); choose another path.") from exc


def _check_writable_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ArtifactError(f"--out {out} is a file; give a directory path for the model.")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise ArtifactError(
            f"--out {out} exists and is not a forecast model directory; choose an empty or new path."
        )
    parent = out.parent if out.parent != Path("") else Path(".")
    probe_parent = parent
    while not probe_parent.exists() and not probe_parent.is_symlink():
        probe_parent = probe_parent.parent
    if not probe_parent.is_dir():
        raise ArtifactError(f"--out {out}: {probe_parent} is a file, so no folder can be made under it; "
                            "choose another path.")
    if not os.access(probe_parent, os.W_OK | os.X_OK):
        raise ArtifactError(f"--out {out}: cannot write in {probe_parent} (permission denied); choose another path.")


def read_history(path: Path) -> list[dict]:
    """The training curves of a model directory; a damaged file (untrusted, like the rest) is refused."""
    with open_snapshot(path.parent) as snapshot:
        data = snapshot.read(path.name, HISTORY_LIMIT, "a training history")
    return parse_history(data, path)


def parse_history(data: bytes | None, where: Path) -> list[dict]:
    """history.csv's rows (epoch, train_loss, val_loss, seconds), checked; [] when there is none."""
    if data is None:
        return []
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
        for row in rows:
            int(row["epoch"]), float(row["train_loss"]), float(row["val_loss"] or 0)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise ArtifactError(f"{where}: damaged training history ({type(exc).__name__}); fit the model again.") from exc
    return rows


def _write_history(path: Path, history: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "train_loss", "val_loss", "seconds"])
        writer.writeheader()
        writer.writerows(history)


def load(path: Path, engine: str = "torch") -> Artifact:
    """Read and validate a model directory; weights as torch tensors or, for engine 'numpy', arrays.

    Every file is read through one handle on the directory (snapshot.py), bounded before it is read, so a
    refit swapping its directory in meanwhile gives the old model or the new one, never a mix; weights
    whose sha256 is not the manifest's are refused. A read the swap crossed starts over, once.
    """
    return consistently(_load, path, engine)


def consistently(read: Callable[..., T], path: Path, *args) -> T:
    """`read(path, ...)`, again from the start if the directory changed under it (Replaced); the second
    attempt's error, if any, is final."""
    try:
        return read(path, *args)
    except Replaced:
        return read(path, *args)


def _load(path: Path, engine: str) -> Artifact:
    with open_snapshot(path) as snapshot:
        manifest, _, data = _manifest_and_weights(snapshot)
        history = snapshot.read(HISTORY, HISTORY_LIMIT, "a training history")
        series_data = _series_bytes(snapshot, manifest)
    series = None
    if series_data is not None:
        spec = manifest.model_spec
        series = series_file.from_bytes(series_data, manifest.series.count, spec.n_features,
                                        manifest.series.sha256, path / series_file.SERIES, coded=spec.n_series > 0)
    weights_path = path / WEIGHTS
    try:
        if engine == "numpy":
            from safetensors.numpy import load as from_bytes
        else:
            from safetensors.torch import load as from_bytes
        weights = from_bytes(data)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ArtifactError(
            f"{weights_path}: damaged or truncated safetensors weights ({detail}); fit the model again."
        ) from exc
    return Artifact(path, manifest, weights, history, series)


def _series_bytes(snapshot: Snapshot, manifest: Manifest) -> bytes | None:
    """A many-series model's series file, bounded by its count of series; None for a one-series model."""
    if manifest.series is None:
        return None
    limit = 1 * MIB + SERIES_BYTES_PER_SERIES * manifest.series.count
    data = snapshot.read(series_file.SERIES, limit, "the per-series statistics")
    if data is None:
        raise _gone(snapshot, series_file.SERIES)
    return data


def _manifest_and_weights(snapshot: Snapshot) -> tuple[Manifest, bytes, bytes]:
    """The manifest (typed, and its bytes), and the weights' bytes once they are known to be safetensors
    and the manifest's own."""
    manifest, text = _manifest_from(snapshot)
    expected = saved_shapes(manifest)
    data = snapshot.read(WEIGHTS, byte_limit(expected), "the weights of the manifest's model")
    if data is None:
        raise _gone(snapshot, WEIGHTS)
    weights_path = snapshot.path / WEIGHTS
    _refuse_non_safetensors(data, weights_path)
    check_header(data, expected, weights_path)  # before safetensors allocates what the header declares
    if manifest.weights_sha256 is not None and hashlib.sha256(data).hexdigest() != manifest.weights_sha256:
        raise Replaced(f"{weights_path}: its sha256 is not the one {MANIFEST} records, so these weights are not "
                       "the ones this model was saved with (copied from another model?); fit the model again.")
    return manifest, text, data


def saved_shapes(manifest: Manifest) -> dict[str, tuple[int, ...]]:
    """Every tensor model.safetensors holds for this manifest: the model's (each ensemble member's, the
    count in config.train.ensemble), and the linear baseline's (under LINEAR_PREFIX) when the fit
    trained one, which its report's baselines say."""
    spec = manifest.model_spec
    if manifest.configs.train.per_series and manifest.series is not None:
        return per_series_shapes(spec, manifest.series.count)  # no linear baseline: each model is small
    shapes = ensemble_shapes(spec, manifest.configs.train.ensemble)
    if manifest.baselines and "linear" in manifest.baselines:
        shapes.update({LINEAR_PREFIX + name: shape for name, shape in expected_shapes(spec.linear()).items()})
    return shapes


def _gone(snapshot: Snapshot, name: str) -> ArtifactError:
    """A missing file: Replaced (read again) when another directory now stands at the path, else final."""
    if snapshot.replaced():
        return Replaced(f"{snapshot.path}: was replaced while it was read ({name} of the previous model was "
                        "removed meanwhile); run the command again.")
    if name == MANIFEST:
        return ArtifactError(f"{snapshot.path}: {MANIFEST} is missing; this is not a forecast model directory.")
    return ArtifactError(f"{snapshot.path}: {name} is missing; fit the model again.")


def _refuse_non_safetensors(data: bytes, weights_path: Path) -> None:
    """Look at the first bytes only: a pickle is never handed to anything that could unpickle it."""
    head = data[: SAFETENSORS_HEADER_START + 1]
    if head[SAFETENSORS_HEADER_START:] == b"{":
        return
    if head.startswith(PICKLE_MAGIC):
        raise ArtifactError(f"{weights_path}: is a pickle or torch.save file, not safetensors; it was not loaded, "
                            "because unpickling can run code. Fit the model again.")
    raise ArtifactError(f"{weights_path}: is not a safetensors weights file; fit the model again.")


def read_manifest(path: Path) -> Manifest:
    """The validated, typed manifest of a model directory."""
    return consistently(_read_manifest, path)


def _read_manifest(path: Path) -> Manifest:
    with open_snapshot(path) as snapshot:
        return _manifest_from(snapshot)[0]


def _manifest_from(snapshot: Snapshot) -> tuple[Manifest, bytes]:
    manifest_path = snapshot.path / MANIFEST
    data = snapshot.read(MANIFEST, MANIFEST_LIMIT, "a manifest")
    if data is None:
        raise _gone(snapshot, MANIFEST)
    try:
        raw = json.loads(data.decode())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        # ValueError: an integer literal of thousands of digits (Python refuses to convert it)
        raise ArtifactError(f"{manifest_path}: is not valid JSON; fit the model again.") from exc
    return Manifest.from_json(raw, manifest_path), data
