"""A model ready for use, and the data a command reads with it.

`LoadedModel` is what the verbs (predict, evaluate, plot) work on: the typed manifest, a predictor
(torch module or NumPy engine), and where the data comes from when none is given: the DataFrame
held in memory after `forecast_cli.fit`, else the training file recorded in the manifest, re-read fresh.
"""

from __future__ import annotations

import os
import re
import stat
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from forecast_cli.data.calendar import with_calendar
from forecast_cli.data.frame import Frame
from forecast_cli.data.io import Table, read_source
from forecast_cli.data.labels import rebuild_task_frame
from forecast_cli.data.panel import Panel, rebuild_panel
from forecast_cli.data.tail import tail_frame
from forecast_cli.data.numtext import is_number_text
from forecast_cli.errors import DataError
from forecast_cli.forward import build_ensemble, build_forward, split_baseline
from forecast_cli.notes import new_notes, note_read, note_series_read
from forecast_cli.per_series import split_weights
from forecast_cli.predictors import Predictor, make_predictor
from forecast_cli.store import artifact
from forecast_cli.store.manifest import Manifest
from forecast_cli.store.series import SeriesStats

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
    series: SeriesStats | None = None  # a many-series model's per-series statistics (--id-col)
    series_forwards: list | None = None  # --per-series: each series' own model, in `series` order

    def forward_of_series(self):
        """What many.py runs each series through: one shared forward function, or (--per-series) a list."""
        return self.series_forwards or self.predictor.forward

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
        return recorded_source(self.manifest, self.directory)

    def read(self, data: Source | None, warn: Callable[[str], None], last_rows: int | None = None,
             enough: Callable[[Frame], bool] | None = None) -> tuple[Frame, Table, Source]:
        """Read the data and rebuild the model's inputs from it; notes go through `warn`. With `last_rows`,
        a file's tail alone where that gives the same last rows (data/tail.py): at least those, or as many
        as `enough` accepts."""
        source = self.data_source(data)
        started = time.perf_counter()
        manifest = self.manifest
        read = tail_frame(source, last_rows, manifest.frame, manifest.classification, manifest.horizon,
                          manifest.dtypes, enough) if last_rows else None
        if read is not None:
            table, frame = read
        else:
            table = read_source(source)
            _require_header(table, manifest)
            frame = rebuild_task_frame(table, manifest.frame, manifest.classification, manifest.horizon)
        frame = with_calendar(frame, manifest.configs.data.calendar, manifest.frequency, manifest.horizon)
        unasked = isinstance(source, str) and source is not data  # the recorded file: always say which
        note_read(table.name, *table.raw.shape, time.perf_counter() - started, warn,
                  self.directory if unasked else None)
        notes = frame.notes
        if self.is_training_data(source, table):  # fit said these once already; only what is new now
            notes = new_notes(notes, table.name, manifest.notes)
        for note in notes:
            warn(note)
        return frame, table, source

    def read_panel(self, data: Source | None, warn: Callable[[str], None]) -> tuple[Panel, Table, Source]:
        """A many-series model's read: every series of the data, rebuilt with the saved columns."""
        source = self.data_source(data)
        started = time.perf_counter()
        table = read_source(source)
        manifest = self.manifest
        _require_header(table, manifest)
        panel = rebuild_panel(table.raw, table.name, manifest.frame, manifest.configs.data.id_col,
                              manifest.configs.data.calendar, manifest.horizon)
        unasked = isinstance(source, str) and source is not data
        if unasked:
            note_read(table.name, *table.raw.shape, 0.0, warn, self.directory)
        note_series_read(table.name, len(table.raw), len(panel.ids), time.perf_counter() - started, warn)
        notes = panel.notes
        if self.is_training_data(source, table):
            notes = new_notes(notes, table.name, manifest.notes)
        for note in notes:
            warn(note)
        return panel, table, source

    def is_training_data(self, source: Source, table: Table) -> bool:
        """Whether `source` is the data fitted on: the same bytes, the same DataFrame, or the recorded
        training file (perhaps with rows appended since)."""
        if source is self.training_data:
            return True
        if isinstance(source, (str, Path)) and str(source) != "-" and any(
                Path(source).resolve() == Path(path).resolve() for path in recorded_paths(self.manifest, self.directory)):
            return True
        return table.sha256 == self.manifest.data.sha256  # last: after a tail read, it reads the whole file


def _require_header(table: Table, manifest: Manifest) -> None:
    """A file without its header line (`tail -n 200 data.csv | forecast predict -`): the model's columns
    are missing and the first line, taken as the header, holds values. Say so instead of "column missing"."""
    spec = manifest.frame
    needed = [*spec.time_cols, *spec.numeric, *spec.categories]
    if all(column in table.raw.columns for column in needed) or not header_looks_like_data(table.raw.columns):
        return
    example = Path(manifest.data.path).name if manifest.data.path else "data.csv"
    raise DataError(f"{table.name}: the first line looks like data, not a header "
                    f"({shown_names(table.raw.columns)}); the model needs a header line naming its columns "
                    f"({', '.join(needed)}). Add it, e.g. "
                    f"(head -n 1 {example}; tail -n 200 {example}) | forecast predict -")


def header_looks_like_data(columns) -> bool:
    """Whether the column names read as a row of values: at least half of them numbers or dates
    (a text column such as an id or a category may hold the rest)."""
    names = [str(column).strip() for column in columns]
    measured = 0
    for name in names:
        base = re.sub(r"\.\d+$", "", name)  # pandas renames a repeated name 61.2 to 61.2.1
        base = base if base in names else name
        measured += bool(is_number_text(base) or _is_date(base))
    return measured > 0 and 2 * measured >= len(names)


def _is_date(text: str) -> bool:
    if not any(ch.isdigit() for ch in text):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(text, errors="coerce", format="mixed") is not pd.NaT
        except (ValueError, TypeError, OverflowError):
            return False


def shown_names(columns, shown: int = 4) -> str:
    """The first few column names for a message."""
    names = [str(column) for column in columns]
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def open_model(directory: Path, engine: str = "torch") -> LoadedModel:
    """Load and validate a model directory into a ready predictor (torch or numpy engine)."""
    loaded = artifact.load(Path(directory), engine)
    manifest = loaded.manifest
    where = str(Path(directory) / artifact.WEIGHTS)
    own, linear = split_baseline(loaded.weights)
    series_forwards = None
    if manifest.configs.train.per_series and manifest.series is not None:
        series_forwards = [build_forward(manifest.model_spec, weights, engine, f"{where} (series {position})")
                           for position, weights in enumerate(split_weights(own, manifest.series.count))]
        forward = series_forwards[0]
    else:
        forward = build_ensemble(manifest.model_spec, own, manifest.configs.train.ensemble, engine, where)
    # The linear baseline, when the fit saved one: checked like the model's own weights (names, shapes, finite).
    baselines = ({"linear": build_forward(manifest.model_spec.linear(), linear, engine, f"{where} (linear baseline)")}
                 if linear else {})
    predictor = make_predictor(forward, manifest.scaler, manifest.window, manifest.horizon, manifest.classification,
                               baselines, manifest.configs.model.quantiles, manifest.calibration)
    return LoadedModel(manifest, predictor, Path(directory), history_csv=loaded.history_csv,
                       series=loaded.series, series_forwards=series_forwards)


def recorded_source(manifest: Manifest, directory: Path | None = None) -> str:
    """The training file recorded at fit time, if it still exists, is a regular file and names a data file:
    the one at the recorded relative path from the model `directory` if there is one (a project folder
    copied or moved whole), else the recorded absolute path (io.read_bytes then refuses a binary one from
    its first 64 KiB, before reading the rest)."""
    if not manifest.data.path:
        raise DataError("the model was fitted on stdin or a DataFrame, so no data file is recorded; pass DATA or '-'.")
    candidates = recorded_paths(manifest, directory)
    for candidate in candidates:
        if Path(candidate).suffix.lower() not in RECORDED_SUFFIXES:
            # A manifest is not trusted to point at any file: an edited one could make predict read
            # (and quote the header of) something that is not data at all.
            raise DataError(f"the data path recorded in the model, {candidate}, is not a .csv/.tsv/.txt file, so "
                            "it is not read unasked; pass DATA.")
    for candidate in candidates:
        if _regular_file(candidate):
            return candidate
    also = f" (nor is {candidates[0]})" if len(candidates) > 1 else ""
    raise DataError(f"the training file recorded in the model, {manifest.data.path}, no longer exists{also}; "
                    "pass DATA.")


def _regular_file(path: str) -> bool:
    """Whether a recorded path holds a regular file (False: nothing there); a FIFO would block the read and a
    device never end it, so anything else is refused."""
    try:
        mode = os.stat(path).st_mode  # follows a link: the user's own data may be one
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an edited path
        raise DataError(f"the training file recorded in the model, {path!r}, cannot be used ({exc}); "
                        "pass DATA.") from None
    if not stat.S_ISREG(mode):
        raise DataError(f"the training file recorded in the model, {path}, is not a regular file, so it is "
                        "not read unasked; pass DATA.")
    return True


def recorded_paths(manifest: Manifest, directory: Path | None) -> list[str]:
    """Where the training file may be, in the order tried: relative to the model directory, then absolute."""
    record = manifest.data
    paths = [os.path.normpath(Path(directory) / record.relative_path)] if record.relative_path and directory else []
    return paths + [record.path] if record.path else paths


def relative_data_path(data_path: str | None, directory: Path) -> str | None:
    """The data file as seen from the model directory (`../data.csv`, `../raw/data.csv`) when it lies beside
    the directory or anywhere below the directory's parent; None for a file elsewhere (or none)."""
    if not data_path:
        return None
    data, home = Path(data_path).resolve(), Path(directory).resolve()
    if not data.is_relative_to(home.parent):
        return None
    return os.path.relpath(data, home)
