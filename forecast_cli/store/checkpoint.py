"""An interrupted fit's checkpoint: `<out>.checkpoint/` beside the model directory `<out>`.

`tensors.safetensors` holds every tensor (current and best weights, Adam's moments, the torch RNG
and batch-order Generator states as uint8); `state.json` the rest (epoch, batch, running loss,
early-stopping state, history, Adam's settings, Python/NumPy RNG states) and a fingerprint of the
data and options, so `--resume` never continues a run on other data or settings. Never pickles;
written through a staging directory and an atomic swap, like the model.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from forecast_cli.errors import ArtifactError, ConfigError
from forecast_cli.nn.spec import ModelSpec, expected_shapes
from forecast_cli.store.atomic import TEMP_MARK, publish, remove_stale, staging_dir
from forecast_cli.store.snapshot import MIB, open_snapshot
from forecast_cli.store.weights import byte_limit

FORMAT = 1
SUFFIX = ".checkpoint"
TENSORS = "tensors.safetensors"
STATE = "state.json"
RESUMABLE_OPTIONS = ("epochs", "device")  # may differ between the interrupted run and --resume
STATE_LIMIT = 256 * MIB  # state.json holds the history: a row per epoch, up to a million epochs
RNG_ALLOWANCE = MIB  # the torch and batch-order generator states and Adam's step counts, as tensors


def location(out: Path) -> Path:
    """Where the checkpoint of a fit writing `out` lives: beside it, `<out>.checkpoint`."""
    return out.with_name(out.name + SUFFIX)


def fingerprint(data_sha256: str, configs: dict[str, dict], scaler: dict) -> dict[str, Any]:
    """What must be equal for a checkpoint to be resumed: the data's bytes, the options, the scaler."""
    train = {k: v for k, v in configs["train"].items() if k not in RESUMABLE_OPTIONS}
    return {"data_sha256": data_sha256, "data": configs["data"], "model": configs["model"], "train": train,
            "scaler": scaler}


def save(out: Path, progress, stamp: dict[str, Any]) -> Path:
    """Write `progress` (a train.TrainProgress) and its fingerprint atomically; return the directory."""
    from safetensors.torch import save_file

    target = location(out)
    remove_stale(target)
    staged = staging_dir(target)
    try:
        tensors, optimizer = _tensors(progress)
        save_file(tensors, str(staged / TENSORS))
        state = {"format": FORMAT, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "fingerprint": stamp, "progress": _progress_fields(progress), "optimizer": optimizer,
                 "host_rng": progress.host_rng}
        (staged / STATE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        publish(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return target


def load(out: Path, stamp: dict[str, Any], spec: ModelSpec):
    """The TrainProgress saved beside `out`, after checking it belongs to this data and these options;
    its files are read like a model directory's (one handle, regular files within their bounds)."""
    from safetensors import SafetensorError
    from safetensors.torch import load as from_bytes

    target = location(out)
    if not target.is_dir():  # open_snapshot would speak of a missing model directory
        raise ArtifactError(f"{target}: the checkpoint cannot be used (it is missing); fit again without "
                            "--resume to start over.")
    try:
        with open_snapshot(target) as snapshot:
            state = json.loads(_required(snapshot.read(STATE, STATE_LIMIT, "a checkpoint's state"), STATE))
            if state.get("format") != FORMAT:
                raise ValueError(f"format {state.get('format')!r}")
            _require_same(state["fingerprint"], stamp, target)
            tensors = snapshot.read(TENSORS, tensors_limit(spec), "the checkpoint of the options' model")
        return _rebuild(state, from_bytes(_required(tensors, TENSORS)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError, SafetensorError) as exc:
        # AttributeError: state.json holding a list or null where objects belong
        raise ArtifactError(f"{target}: the checkpoint cannot be used ({str(exc)[:120]}); fit again without "
                            "--resume to start over.") from exc


def tensors_limit(spec: ModelSpec) -> int:
    """The most bytes a checkpoint's tensors can take: the weights four times (current, best, Adam's
    two moments), plus Adam's step counts and the random generators' states."""
    return 4 * byte_limit(expected_shapes(spec)) + RNG_ALLOWANCE


def _required(data: bytes | None, name: str) -> bytes:
    if data is None:
        raise ValueError(f"{name} is missing")
    return data


def exists(out: Path) -> bool:
    return (location(out) / STATE).is_file()


def discard(out: Path) -> None:
    """Remove the checkpoint once the model it led to is published: renamed aside first (atomic),
    so a crash never leaves half a checkpoint under the real name."""
    target = location(out)
    if not target.exists():
        return
    aside = target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}-done")
    os.rename(target, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _require_same(saved: dict, current: dict, target: Path) -> None:
    if saved.get("data_sha256") != current["data_sha256"]:
        raise ConfigError(f"{target}: the data file changed since the checkpoint was saved; fit again without "
                          "--resume to start over on the new data.")
    for section in ("data", "model", "train"):
        for key, value in current[section].items():
            if saved.get(section, {}).get(key) != value:
                raise ConfigError(f"{target}: the checkpoint was made with {section} option {key} = "
                                  f"{saved.get(section, {}).get(key)!r}, not {value!r}; rerun with the same options, "
                                  "or without --resume to start over.")
    if saved.get("scaler") != current["scaler"]:
        raise ConfigError(f"{target}: the checkpoint's normalization differs from this data's; fit again "
                          "without --resume.")


def _tensors(progress) -> tuple[dict, dict]:
    """Every tensor under a flat name for safetensors, and Adam's non-tensor state as JSON."""
    import torch

    tensors = {f"model/{k}": v for k, v in progress.model_state.items()}
    tensors.update({f"best/{k}": v for k, v in progress.best_state.items()})
    tensors.update({f"average/{k}": v for k, v in progress.average_state.items()})
    tensors["rng/order"] = progress.order_rng
    tensors["rng/torch"] = progress.torch_rng
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in progress.optimizer_state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    optimizer = {"param_groups": progress.optimizer_state["param_groups"], "scalars": scalars}
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, optimizer


def _progress_fields(progress) -> dict[str, Any]:
    return {"epoch": progress.epoch, "batches_done": progress.batches_done, "loss_sum": progress.loss_sum,
            "samples": progress.samples, "best": None if math.isinf(progress.best) else progress.best,
            "stale": progress.stale, "best_epoch": progress.best_epoch,
            "history": [vars(stats) for stats in progress.history]}


def _rebuild(state: dict, tensors: dict):
    from forecast_cli.nn.train import EpochStats, TrainProgress

    fields = state["progress"]
    optimizer_state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if name.startswith("optimizer/"):
            _, index, key = name.split("/", 2)
            optimizer_state.setdefault(int(index), {})[key] = tensor
    for index, values in state["optimizer"]["scalars"].items():
        optimizer_state.setdefault(int(index), {}).update(values)
    return TrainProgress(
        epoch=int(fields["epoch"]), batches_done=int(fields["batches_done"]), loss_sum=float(fields["loss_sum"]),
        samples=int(fields["samples"]), best=math.inf if fields["best"] is None else float(fields["best"]),
        stale=int(fields["stale"]), best_epoch=int(fields["best_epoch"]),
        best_state={k[len("best/"):]: v for k, v in tensors.items() if k.startswith("best/")},
        history=[EpochStats(**stats) for stats in fields["history"]],
        order_rng=tensors["rng/order"], torch_rng=tensors["rng/torch"], host_rng=state["host_rng"],
        model_state={k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")},
        optimizer_state={"state": optimizer_state, "param_groups": state["optimizer"]["param_groups"]},
        average_state={k[len("average/"):]: v for k, v in tensors.items() if k.startswith("average/")},
    )
