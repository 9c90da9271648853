"""The public Python API, the only thing the CLI calls: `fit(...)`, `backtest(...)`, `load(...)` and `Model`.

Keyword options carry the CLI's option names in snake_case, with the same defaults (taken from the
config records) and the same validation: a bad option raises a ForecastError subclass whose message
is the CLI's one line. Notes and warnings go to `warn` (default: Python's `warnings`, category
ForecastWarning), never to stdout; `notes.Info` lines among them (the file read, a slow read's time)
are not warnings, and the default `warn` drops them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from forecast_cli.config import DataConfig, ModelConfig, TrainConfig, parse_season, parse_window
from forecast_cli.errors import ConfigError
from forecast_cli.loaded import LoadedModel, Source, open_model
from forecast_cli.notes import Info
from forecast_cli.store.manifest import Configs, Manifest


class ForecastWarning(UserWarning):
    """A note about the data or the options (rows dropped, a column left out, a setting adjusted)."""


def _warn(message: str) -> None:
    if isinstance(message, Info):  # what was read and how long it took: a terminal's business, not a warning
        return
    warnings.warn(message, ForecastWarning, stacklevel=3)


class Model:
    """A trained forecaster or classifier: forecast ahead, backtest, plot, save.

    `data=None` everywhere means the training data: the DataFrame fitted on, or the training file
    recorded in the model directory (re-read fresh, so appended rows count).
    """

    def __init__(self, loaded: LoadedModel, outcome=None, warn: Callable[[str], None] | None = None) -> None:
        self._loaded = loaded
        self._outcome = outcome  # fit.FitOutcome while the model is in memory
        self._warn = warn or _warn

    @property
    def manifest(self) -> Manifest:
        """What the model directory's manifest.json holds, typed."""
        return self._loaded.manifest

    @property
    def report(self) -> dict | None:
        """The fit's test-part backtest (what `evaluate --json` prints on the test part); None if no test part."""
        if self._outcome is not None:
            return self._outcome.report
        return None

    @property
    def report_markdown(self) -> str | None:
        """The fit's test report as Markdown (what report.md holds); None for a model loaded from disk."""
        if self._outcome is not None:
            return self._outcome.report_md
        return None

    def data_name(self, data: Source | None = None) -> str:
        """What `data` is called in messages and report titles: the path given, `<stdin>`, `<DataFrame>`,
        or the training file that `data=None` reads (the one beside the model directory preferred)."""
        source = self._loaded.data_source(data)
        if isinstance(source, pd.DataFrame):
            return "<DataFrame>"
        return "<stdin>" if str(source) == "-" else str(source)

    def predict(self, data: Source | None = None, ids: Sequence[str] | None = None,
                id_col: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The forecast after the data's last row: `timestamp, step, <target>`, then `<target>_p10`... per
        quantile level when fitted with quantiles (a classifier: `timestamp, step, class, p_<class>...`; a
        many-series model: `<id columns>, timestamp, step, <target>` for each series, or those in `ids`),
        the CLI's columns."""
        from forecast_cli.predict import predict

        self._check_id_col(id_col)
        return predict(self._loaded, data, self._warn, _id_list(ids))

    def evaluate(self, data: Source | None = None, ids: Sequence[str] | None = None, n_jobs: int = 1,
                 backend: str = "loky", id_col: str | Sequence[str] | None = None) -> dict:
        """Backtest scores beside the baselines: exactly what `forecast evaluate --json` prints (with the
        `stats` extra installed, AutoETS, AutoARIMA and AutoTheta among them). A many-series model scores
        each series (or those in `ids`), `n_jobs` at once on joblib's `backend`, and adds `series` and
        `aggregate`."""
        from forecast_cli.evaluate import evaluate, evaluate_many
        from forecast_cli.predict import refuse_ids

        self._check_id_col(id_col)
        if self._loaded.series is not None:
            return evaluate_many(self._loaded, data, self._warn, _id_list(ids), n_jobs, backend)
        refuse_ids(_id_list(ids))
        return evaluate(self._loaded, data, self._warn, statistical=True).backtest.result

    def plot(self, path: str | Path, data: Source | None = None, ids: Sequence[str] | None = None,
             n_jobs: int = 1, backend: str = "loky", id_col: str | Sequence[str] | None = None) -> Path:
        """Draw history, a close-up of the backtest and the forecast ahead, and the training curves to an
        image (PNG, SVG or PDF, by the name's extension); returns its path. A many-series model draws a
        grid of the series in `ids` (default: its best and worst few by backtest MASE, every series
        scored `n_jobs` at once on joblib's `backend` to choose them)."""
        from forecast_cli.plot import check_image_path, plot

        self._check_id_col(id_col)
        if self._loaded.series is not None:
            from forecast_cli.plot_many import plot_many

            return plot_many(self._loaded, data, check_image_path(Path(path)), self._warn, _id_list(ids), n_jobs,
                             backend)
        from forecast_cli.predict import refuse_ids

        refuse_ids(_id_list(ids))
        return plot(self._loaded, data, Path(path), self._warn)

    def _check_id_col(self, id_col: str | Sequence[str] | None) -> None:
        """`--id-col` on predict, evaluate or plot: the model knows its own id columns (the manifest); one
        given must be them, and a one-series model has none."""
        given, known = _names(id_col), self.manifest.configs.data.id_col
        if not given or tuple(given) == tuple(known or ()):
            return
        if not known:
            raise ConfigError(f"--id-col {','.join(given)}: this model was fitted on one series (without "
                              "--id-col); leave --id-col out, or fit a many-series model with it.")
        raise ConfigError(f"--id-col {','.join(given)}: this model was fitted with --id-col {','.join(known)}; "
                          "give that, or leave --id-col out (the model knows it).")

    def save(self, directory: str | Path) -> Path:
        """Write the model directory (the same files `forecast fit --out DIR` writes), atomically."""
        from forecast_cli.store import artifact, lock

        directory = Path(directory)
        with lock.exclusive(directory):
            if self._outcome is not None:
                self._outcome.save(directory)
            else:
                artifact.copy_directory(self._loaded.directory, directory, self.manifest)
        return directory


def fit(data: Source, target: str | None = None, *, features: str | Sequence[str] | None = None,
        time_col: str | Sequence[str] | None = None, cell: str = ModelConfig.cell, window: int | str | None = "auto",
        horizon: int = DataConfig.horizon, hidden: int = ModelConfig.hidden_size, layers: int = ModelConfig.num_layers,
        dropout: float = ModelConfig.dropout, bidirectional: bool = ModelConfig.bidirectional,
        decoder: str = ModelConfig.decoder, highway: bool = ModelConfig.highway, epochs: int = TrainConfig.epochs, batch_size: int = TrainConfig.batch_size,
        lr: float = TrainConfig.lr, lr_schedule: str = TrainConfig.lr_schedule, weight_decay: float = TrainConfig.weight_decay,
        ema: float = TrainConfig.ema,
        clip_grad: float = TrainConfig.clip_grad, patience: int = TrainConfig.patience,
        val_frac: float = DataConfig.val_frac, test_frac: float = DataConfig.test_frac, season: int | str | None = "auto",
        norm: str = DataConfig.norm, device: str = TrainConfig.device, seed: int = TrainConfig.seed,
        out: str | Path | None = None, id_col: str | Sequence[str] | None = None,
        id_embedding: int = ModelConfig.id_embedding, task: str = DataConfig.task, target_from: str | None = None,
        classify_direction: bool = False, training: str = TrainConfig.training, chunk: int | None = None,
        epoch_size: int | None = None, ensemble: int = TrainConfig.ensemble, calendar: str = DataConfig.calendar,
        per_series: bool = TrainConfig.per_series, n_jobs: int = TrainConfig.n_jobs, backend: str = TrainConfig.backend,
        resume: bool = False, quantiles: str | Sequence[float] | None = None, warn: Callable[[str], None] | None = None,
        on_epoch_end: Callable | None = None, should_stop: Callable[[], bool] | None = None,
        warm_start: str | Path | bool | None = None) -> Model:
    """Train a forecaster (or a classifier) on `data`: a CSV path, `-` for stdin, or a pandas DataFrame.

    With `out`, the model directory is written there as by `forecast fit --out` (locked, atomic, a
    checkpoint if `should_stop` interrupts it); without, the model stays in memory until `save`.
    `on_epoch_end(stats)` is called after every epoch; `should_stop()` is polled between batches.
    `warm_start` (a model directory, or True for `out`) starts training from that model's weights,
    keeping its scaler; the options that shape the network must match it, and the report gains its
    test score before (`report["warm_start"]`).
    `quantiles` ("0.1,0.5,0.9" or [0.1, 0.5, 0.9]) trains those levels with the pinball loss: predict then
    adds a `<target>_p10`... column per level and evaluate "quantiles" and "intervals" scores.
    `id_embedding` N (with `id_col`) learns N values per series, joined to the global model's inputs.
    """
    from forecast_cli.fitting import fit as run_fit

    configs = _configs(target, locals())
    outcome = run_fit(data, configs, Path(out) if out is not None else None, warn or _warn, on_epoch_end,
                      should_stop, resume, _warm_start_directory(warm_start, out))
    loaded = LoadedModel(outcome.manifest, outcome.predictor, Path(out) if out is not None else None,
                         training_data=data if isinstance(data, pd.DataFrame) else None, history=outcome.history,
                         series=outcome.series, series_forwards=outcome.series_forwards)
    return Model(loaded, outcome, warn)


def _configs(target: str | None, settings: dict) -> Configs:
    """The config records from fit's keyword options (`settings`: every one of fit's parameters by name)."""
    from forecast_cli.config import parse_quantiles

    target_from, direction = settings["target_from"], settings["classify_direction"]
    data_config = DataConfig(target=target or (f"{target_from}_direction" if target_from else ""),
                             features=_names(settings["features"]), time_col=_names(settings["time_col"]),
                             window=parse_window(settings["window"]), horizon=settings["horizon"],
                             val_frac=settings["val_frac"], test_frac=settings["test_frac"], norm=settings["norm"],
                             season=parse_season(settings["season"]),
                             task="classify" if direction else settings["task"], target_from=target_from,
                             classify_direction=direction, id_col=_names(settings["id_col"]),
                             calendar=settings["calendar"])
    s = settings  # short: the two records below take many of them
    model = ModelConfig(s["cell"], s["hidden"], s["layers"], s["dropout"], s["bidirectional"], s["decoder"],
                        quantiles=parse_quantiles(s["quantiles"]), highway=s["highway"], id_embedding=s["id_embedding"])
    train = TrainConfig(s["epochs"], s["batch_size"], s["lr"], s["weight_decay"], s["clip_grad"], s["patience"],
                        s["device"], s["seed"], s["training"], s["chunk"], epoch_size=s["epoch_size"],
                        ensemble=s["ensemble"], lr_schedule=s["lr_schedule"], ema=s["ema"], per_series=s["per_series"],
                        n_jobs=s["n_jobs"], backend=s["backend"])
    return Configs(data_config, model, train)


# fit's keywords a backtest does not take: where a model is written or continued from, and the callbacks.
NOT_BACKTEST_OPTIONS = ("out", "resume", "warm_start", "on_epoch_end", "should_stop", "warn")


def backtest(data: Source, target: str | None = None, *, folds: int = 5, out: str | Path | None = None,
             warn: Callable[[str], None] | None = None, **options) -> dict:
    """K expanding-window refits of `fit(data, target, **options)`, each scored on the block of rows
    after it (backtesting.py has the rule); returns what `forecast backtest --json` prints: `per_fold`
    scores and boundaries, and `aggregate` mean and std across folds, the model's beside each
    baseline's. `options` are fit's keyword options (--test-frac: the share of rows the K blocks
    cover). Nothing is written unless `out` names a folder: then backtest.json and backtest.md."""
    import inspect

    from forecast_cli import backtesting

    accepted = [name for name in inspect.signature(fit).parameters if name not in ("data", "target",
                                                                                    *NOT_BACKTEST_OPTIONS)]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise ConfigError(f"backtest: {unknown[0]!r} is not a fit option a backtest takes; use one of "
                          f"{', '.join(accepted)}.")
    settings = {name: parameter.default for name, parameter in inspect.signature(fit).parameters.items()}
    settings.update(options)
    configs = _configs(target, settings)
    data_config = configs.data
    data_config.validate()
    if out is not None:
        backtesting.check_out(Path(out))  # before any fold trains

    def fit_fold(rows: pd.DataFrame, test_frac: float, fold_warn: Callable[[str], None]):
        return fit(rows, target, **{**options, "test_frac": test_frac}, warn=fold_warn)._outcome

    if data_config.id_col:
        from forecast_cli import backtest_many
        from forecast_cli.fitting import fit as run_fit

        def fit_many_fold(rows: pd.DataFrame, test_from, fold_warn: Callable[[str], None]):
            return run_fit(rows, configs, None, fold_warn, test_from=test_from)

        result = backtest_many.backtest_many(data, data_config, folds, fit_many_fold, warn or _warn)
    else:
        result = backtesting.backtest(data, data_config, folds, fit_fold, warn or _warn)
    if out is not None:
        backtesting.save(result, Path(out))
    return result


def load(directory: str | Path, engine: str = "torch", warn: Callable[[str], None] | None = None) -> Model:
    """Open a model directory written by `fit` (checked as untrusted input: no code runs from it).
    engine "numpy" runs the network in NumPy without importing torch."""
    return Model(open_model(Path(directory), engine), warn=warn)


def _warm_start_directory(warm_start: str | Path | bool | None, out: str | Path | None) -> Path | None:
    """--warm-start DIR, or the model being replaced (`out`) when given as True (the CLI's bare flag)."""
    if warm_start is None or warm_start is False:
        return None
    if warm_start is True:
        if out is None:
            raise ConfigError("--warm-start without a directory starts from the model at --out; give --out DIR "
                              "or --warm-start DIR.")
        return Path(out)
    return Path(warm_start)


def _id_list(ids: str | Sequence[str] | None) -> list[str] | None:
    """Series names from `a,b` text or a list; None for all."""
    names = _names(ids)
    return list(names) if names else None


def _names(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Column names from `a,b` text (the CLI's form) or a list."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(part).strip() for part in parts if str(part).strip())


__all__ = ["fit", "backtest", "load", "Model", "ForecastWarning"]
