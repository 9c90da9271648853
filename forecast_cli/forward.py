"""Scaled windows -> model outputs: the forward code that training's report, predict, evaluate and
backtests share, so all of them see the same numbers.

Owns the forward function of a model (the torch module, or the NumPy engine without torch), the
weight checks both engines pass before anything is allocated, batching over window views, and
scaling a frame's inputs with the training statistics. Imports no verb; torch only on first use.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from forecast_cli.data.frame import Frame
from forecast_cli.data.windows import Scaler, windows_at
from forecast_cli.errors import ArtifactError, ConfigError, DataError
from forecast_cli.nn.spec import LINEAR_PREFIX, ModelSpec, check_layout, expected_shapes, member_prefix

Forward = Callable[[np.ndarray], np.ndarray]  # (B, L, F) float32 z-scores -> (B, H) z-scores or (B, C) logits
PREDICT_BATCH = 256  # windows per forward pass; 2048 cost evaluate more in page faults than it saved
ENGINES = ("torch", "numpy")  # torch: the trained module; numpy: nn/numpy_engine.py, no torch import


def forward_windows(forward: Forward, scaled: np.ndarray, origins: np.ndarray, window: int, width: int) -> np.ndarray:
    """The forward pass over the windows of consecutive origins, in batches: (N, width) raw outputs.

    Each batch's outputs are copied into one array at once rather than kept until a concatenate: kept,
    thousands of small output buffers sat between the freed input batches and fragmented the heap, so
    every new batch took fresh memory (500 MB more for the linear baseline's test backtest at 3M rows,
    the peak of `fit`)."""
    outputs = None
    for start in range(0, len(origins), PREDICT_BATCH):
        chunk = windows_at(scaled, origins[start: start + PREDICT_BATCH], window)  # (B, L, F) view
        batch = forward(np.array(chunk))  # a writable copy: torch warns on read-only views
        if outputs is None:
            outputs = np.empty((len(origins), batch.shape[1]), dtype=batch.dtype)
        outputs[start: start + len(batch)] = batch
    return outputs if outputs is not None else np.empty((0, width))


def torch_forward(model) -> Forward:
    """Wrap a torch module as a numpy-in, numpy-out function on the CPU."""
    import torch

    model = model.to("cpu").eval()

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor(batch)).numpy()

    return forward


def split_baseline(weights: dict) -> tuple[dict, dict]:
    """model.safetensors' tensors -> (the model's own, the linear baseline's with the prefix removed)."""
    own = {name: tensor for name, tensor in weights.items() if not name.startswith(LINEAR_PREFIX)}
    linear = {name[len(LINEAR_PREFIX):]: tensor for name, tensor in weights.items() if name.startswith(LINEAR_PREFIX)}
    return own, linear


def split_members(own: dict, members: int) -> list[dict]:
    """The model's tensors (split_baseline's first part) -> one dict per ensemble member, prefixes removed
    (member 0 keeps the model's own names; each member's dict is checked by build_forward)."""
    parts = [{} for _ in range(members)]
    prefixes = [(index, member_prefix(index)) for index in range(members - 1, 0, -1)]
    for name, tensor in own.items():
        index, prefix = next(((i, p) for i, p in prefixes if name.startswith(p)), (0, ""))
        parts[index][name[len(prefix):]] = tensor
    return parts


def mean_forward(forwards: list[Forward]) -> Forward:
    """The ensemble's forward function: its members' outputs averaged (z-scores, so their mean in
    original units too: the scaler is affine)."""
    if len(forwards) == 1:
        return forwards[0]

    def forward(batch: np.ndarray) -> np.ndarray:
        return sum(member(batch) for member in forwards) / len(forwards)

    return forward


def build_ensemble(spec: ModelSpec, own: dict, members: int, engine: str = "torch",
                   where: str = "the weights") -> Forward:
    """The saved model's forward function: one member's, or the mean of `members` members' (each checked)."""
    parts = split_members(own, members)
    return mean_forward([build_forward(spec, part, engine, where if index == 0 else f"{where} (ensemble member {index})")
                         for index, part in enumerate(parts)])


def build_forward(spec: ModelSpec, weights: dict, engine: str = "torch", where: str = "the weights") -> Forward:
    """The saved model's forward function on the chosen engine, after checking `weights` against `spec`."""
    if engine not in ENGINES:
        raise ConfigError(f"--engine must be {' or '.join(ENGINES)}, not {engine!r}.")
    check_weights(spec, weights, where)
    if engine == "numpy":
        from forecast_cli.nn.numpy_engine import numpy_forward

        return numpy_forward(spec, weights)
    return torch_forward(torch_module(spec, weights, where))


def torch_module(spec: ModelSpec, weights: dict, where: str):
    """The Forecaster `spec` describes with `weights` loaded strictly (already checked by check_weights)."""
    from forecast_cli.nn.model import Forecaster

    try:
        model = Forecaster(spec)
        model.load_state_dict(weights, strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ArtifactError(f"{where}: do not match the manifest's model ({first}); fit the model again.") from exc
    return model


def check_weights(spec: ModelSpec, weights: dict, where: str) -> None:
    """Refuse weights whose tensor names, shapes or types differ from the model's, or that hold NaN or
    infinity; the same check for torch tensors and NumPy arrays, so both engines refuse the same files
    (a model directory's header was already held to the same layout before loading: store/weights.py)."""
    declared = {name: (tuple(tensor.shape), str(tensor.dtype).removeprefix("torch.")) for name, tensor in weights.items()}
    check_layout(expected_shapes(spec), declared, where)
    for name, tensor in weights.items():
        if not _all_finite(tensor):
            raise ArtifactError(f"{where}: tensor {name!r} holds NaN or infinite values, so the model is damaged; "
                                "fit the model again.")


def _all_finite(tensor) -> bool:
    if isinstance(tensor, np.ndarray):
        return bool(np.isfinite(tensor).all())
    return bool(tensor.isfinite().all())


def scaled_window_rows(frame: Frame, scaler: Scaler, origins: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The z-scores of only the rows that the windows before `origins` read, and the origins counted from
    the first of those rows: a backtest of the test part scales that part, not the whole file (at 3M rows
    the whole file in float64 and float32 is half a gigabyte)."""
    if len(origins) == 0:
        return scaled_values(frame, scaler), origins
    first = max(int(origins.min()) - window, 0)
    part = replace(frame, data=frame.data.iloc[first: int(origins.max())])
    return scaled_values(part, scaler), origins - first


def scaled_values(frame: Frame, scaler: Scaler, name: str = "the data") -> np.ndarray:
    """(T, F) float32 z-scores of a frame's inputs, with the training statistics; a value too far
    out to normalize (beyond float32 once scaled) is an error naming its column and row. The frame is
    scaled a block of rows at a time (windows.row_blocks): its columns are never stacked in float64."""
    values = frame.data
    if values.shape[1] != len(scaler.mean):
        raise DataError(f"the data gives {values.shape[1]} input columns but the model expects {len(scaler.mean)}.")
    scaled = scaler.transform(values)
    if len(scaled) and not (np.isfinite(scaled.min()) and np.isfinite(scaled.max())):  # NaN and inf show there
        row, column = (int(i) for i in np.argwhere(~np.isfinite(scaled))[0])
        label = frame.data.columns[column]
        raise DataError(
            f"{name}: column {label!r} at {frame.data.index[row]} holds {float(values.iloc[row, column]):.6g}, "
            f"too far from the training values (mean {scaler.mean[column]:.6g}, spread {scaler.scale[column]:.6g}) "
            "to normalize; fix that value or rescale the column."
        )
    return scaled
