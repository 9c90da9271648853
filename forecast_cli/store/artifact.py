"""The model directory: `manifest.json`, `model.safetensors`, `history.csv`, `report.json`, `report.md`.

Saved through a staging directory and an atomic swap; loaded without unpickling anything:
weights via safetensors, the rest JSON validated against FORMAT_VERSION and manifest.py's schema.
Paths read from a manifest are only ever read, never written to.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast_cli.store.atomic import publish, remove_stale, staging_dir
from forecast_cli.errors import ArtifactError
from forecast_cli.store.manifest import check_fields

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
HISTORY = "history.csv"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SAFETENSORS_HEADER_START = 8  # a u64 header length, then the JSON header's "{"
PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+, and the zip that torch.save writes


@dataclass
class Artifact:
    """A loaded model directory: the manifest and the weights as CPU tensors or numpy arrays."""

    path: Path
    manifest: dict[str, Any]
    weights: dict[str, Any]


def save(out: Path, manifest: dict, weights: dict, history: list[dict], report: dict, report_md: str) -> None:
    """Write every file into a staging directory, then swap it in place of `out`."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    check_writable_target(out)
    remove_stale(out)
    try:
        staged = staging_dir(out)
    except OSError as exc:
        raise _not_written(out, exc) from exc
    try:
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        save_file({k: v.contiguous() for k, v in weights.items()}, str(staged / WEIGHTS))
        _write_history(staged / HISTORY, history)
        (staged / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
        (staged / REPORT_MD).write_text(report_md)
        publish(staged, out)
    except (OSError, SafetensorError) as exc:  # disk full, quota, a folder removed under us: known only now
        shutil.rmtree(staged, ignore_errors=True)
        raise _not_written(out, exc) from exc
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


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


def _write_history(path: Path, history: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "train_loss", "val_loss", "seconds"])
        writer.writeheader()
        writer.writerows(history)


def load(path: Path, engine: str = "torch") -> Artifact:
    """Read and validate a model directory; weights as torch tensors or, for engine 'numpy', arrays."""
    manifest = read_manifest(path)
    weights_path = path / WEIGHTS
    if not weights_path.is_file():
        problem = "is not a regular file" if weights_path.exists() or weights_path.is_symlink() else "is missing"
        raise ArtifactError(f"{path}: {WEIGHTS} {problem}; fit the model again.")
    _refuse_non_safetensors(weights_path)
    try:
        if engine == "numpy":
            from safetensors.numpy import load_file
        else:
            from safetensors.torch import load_file
        weights = load_file(str(weights_path))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ArtifactError(
            f"{weights_path}: damaged or truncated safetensors weights ({detail}); fit the model again."
        ) from exc
    return Artifact(path, manifest, weights)


def _refuse_non_safetensors(weights_path: Path) -> None:
    """Look at the first bytes only: a pickle is never handed to anything that could unpickle it."""
    try:
        with open(weights_path, "rb") as handle:
            head = handle.read(SAFETENSORS_HEADER_START + 1)
    except OSError as exc:
        raise ArtifactError(f"{weights_path}: cannot be read ({exc.strerror}); check its permissions.") from exc
    if head[SAFETENSORS_HEADER_START:] == b"{":
        return
    if head.startswith(PICKLE_MAGIC):
        raise ArtifactError(f"{weights_path}: is a pickle or torch.save file, not safetensors; it was not loaded, "
                            "because unpickling can run code. Fit the model again.")
    raise ArtifactError(f"{weights_path}: is not a safetensors weights file; fit the model again.")


def read_manifest(path: Path) -> dict[str, Any]:
    """The validated manifest of a model directory."""
    if not path.is_dir():
        raise ArtifactError(f"{path}: no model directory here; run `forecast fit` first or pass --model.")
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: {MANIFEST} is missing; this is not a forecast model directory.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{manifest_path}: is not valid JSON; fit the model again.") from exc
    except OSError as exc:
        raise ArtifactError(f"{manifest_path}: cannot be read ({exc.strerror}); check its permissions.") from exc
    validate_manifest(manifest, manifest_path)
    return manifest


def validate_manifest(manifest: Any, where: Path) -> None:
    """Refuse manifests of another format version or with missing or mistyped fields."""
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{where}: expected a JSON object; fit the model again.")
    version = manifest.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ArtifactError(
            f"{where}: format version {version} is newer than this forecast understands ({FORMAT_VERSION}); "
            "upgrade forecast."
        )
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ArtifactError(f"{where}: format version {version!r} is not supported (expected {FORMAT_VERSION}); "
                            "fit the model again.")
    check_fields(manifest, where)
