"""A model ready for use, and the data a command reads with it.

`LoadedModel` is what the verbs (predict, evaluate, plot) work on: the typed manifest, a predictor
(torch module or NumPy engine), and where the data comes from when none is given: the DataFrame
held in memory after `forecast_cli.fit`, else the training file recorded in the manifest, re-read fresh.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import rebuild_task_frame
from forecast_cli.errors import DataError
from forecast_cli.forward import build_forward
from forecast_cli.predictors import Predictor, make_predictor
from forecast_cli.store import artifact
from forecast_cli.store.manifest import Manifest

RECORDED_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".psv")  # read without being named on the command line
Source = str | Path | pd.DataFrame


@dataclass
class LoadedModel:
    manifest: Manifest
    predictor: Predictor
    directory: Path | None = None  # the model directory it was read from; None while only in memory
    training_data: pd.DataFrame | None = None  # the DataFrame it was fitted on, if any
    history: list[dict] | None = None  # one row per epoch, when in memory; else parsed from history_csv
    history_csv: bytes | None = None  # history.csv as read with the weights (the same directory handle)

    def training_history(self) -> list[dict]:
        """The training curves (epoch, train_loss, val_loss, seconds), parsed on first use from the bytes
        read with the model, so a refit published since then cannot lend its curves."""
        if self.history is None:
            where = (self.directory or Path(".")) / artifact.HISTORY
            self.history = artifact.parse_history(self.history_csv, where)
        return self.history

    def data_source(self, data: Source | None) -> Source:
        """The data to read: as given, else the DataFrame fitted on, else the recorded training file."""
        if data is not None and not (isinstance(data, str) and data == ""):
            return data
        if self.training_data is not None:
            return self.training_data
        return recorded_source(self.manifest)

    def read(self, data: Source | None, warn: Callable[[str], None]) -> tuple[Frame, Table, Source]:
        """Read the data and rebuild the model's inputs from it; notes go through `warn`."""
        source = self.data_source(data)
        table = read_source(source)
        manifest = self.manifest
        frame = rebuild_task_frame(table, manifest.frame, manifest.classification, manifest.horizon)
        for note in frame.notes:
            warn(note)
        return frame, table, source


def open_model(directory: Path, engine: str = "torch") -> LoadedModel:
    """Load and validate a model directory into a ready predictor (torch or numpy engine)."""
    loaded = artifact.load(Path(directory), engine)
    manifest = loaded.manifest
    forward = build_forward(manifest.model_spec, loaded.weights, engine, str(Path(directory) / artifact.WEIGHTS))
    predictor = make_predictor(forward, manifest.scaler, manifest.window, manifest.horizon, manifest.classification)
    return LoadedModel(manifest, predictor, Path(directory), history_csv=loaded.history_csv)


def recorded_source(manifest: Manifest) -> str:
    """The training file recorded at fit time, if it still exists and is a regular file named like data
    (io.read_bytes then refuses a binary one from its first 64 KiB, before reading the rest)."""
    recorded = manifest.data.path
    if not recorded:
        raise DataError("the model was fitted on stdin or a DataFrame, so no data file is recorded; pass DATA or '-'.")
    try:
        mode = os.stat(recorded).st_mode  # follows a link: the user's own data may be one
    except FileNotFoundError:
        raise DataError(f"the training file recorded in the model, {recorded}, no longer exists; pass DATA.") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an edited path
        raise DataError(f"the training file recorded in the model, {recorded!r}, cannot be used ({exc}); "
                        "pass DATA.") from None
    if not stat.S_ISREG(mode):  # a FIFO would block the read, a device never end it
        raise DataError(f"the training file recorded in the model, {recorded}, is not a regular file, so it is "
                        "not read unasked; pass DATA.")
    if Path(recorded).suffix.lower() not in RECORDED_SUFFIXES:
        # A manifest is not trusted to point at any file: an edited one could make predict read
        # (and quote the header of) something that is not data at all.
        raise DataError(f"the data path recorded in the model, {recorded}, is not a .csv/.tsv/.txt file, so it "
                        "is not read unasked; pass DATA.")
    return recorded
