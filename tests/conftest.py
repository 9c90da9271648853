"""Shared fixtures: a tiny generated daily CSV, ONE tiny model fitted on it per session, and `run_cli`.

The model is fitted once (hidden 8, 3 epochs) and reused read-only by the CLI and round-trip tests;
a test that must change the model or its CSV copies them or fits its own into tmp_path.

Marker `slow` (registered in pyproject.toml): tests that take seconds each because they run the
commands in real processes (tests/e2e, the fault harness, the fresh-interpreter "never imports
torch" checks) or generate many cases (hypothesis). A quick helper process (a lock holder, a
locale check) does not make a test slow. Slow tests run by default, as in CI;
`python -m pytest -m "not slow"` is the fast loop while editing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
TINY_ROWS = 120
TINY_WINDOW = 10
TINY_HORIZON = 3
TINY_TARGET = "sales"


@pytest.fixture(scope="session", autouse=True)
def no_statistical_baselines():
    """Scores and verdicts pinned by the tests are those of a plain install: where the `stats` extra is
    installed, its baselines stay out of evaluate (here and in child processes) unless a test turns them
    on (tests/cli/test_stats_baselines.py)."""
    before = os.environ.get("FORECAST_STATS_BASELINES")
    os.environ["FORECAST_STATS_BASELINES"] = "0"
    yield
    if before is None:
        os.environ.pop("FORECAST_STATS_BASELINES", None)
    else:
        os.environ["FORECAST_STATS_BASELINES"] = before


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core runner two spinning
    OpenMP threads per process made a 20-epoch sine fit take 1 to 22 s instead of about 1 s."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_tiny_frame(rows: int = TINY_ROWS, seed: int = 0, start: str = "2021-01-04") -> pd.DataFrame:
    """Daily `date, sales, temp`: a weekly cycle on a trend, and a feature whose first value is blank,
    so every command has a warning to print (on stderr) about the dropped leading row."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    sales = 50 + 10 * np.sin(2 * np.pi * steps / 7) + 0.1 * steps + rng.normal(0, 0.5, rows)
    temp = 20 + 5 * np.cos(2 * np.pi * steps / 30) + rng.normal(0, 0.3, rows)
    temp[0] = np.nan
    dates = pd.date_range(start, periods=rows, freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": dates, "sales": sales.round(3), "temp": temp.round(2)})


LONG_SERIES = ("a", "b", "c", "d")


def make_long_frame(rows: int = 70, seed: int = 0) -> pd.DataFrame:
    """Four weekly-cycle series at different levels, `d` ending 5 days early, rows shuffled."""
    rng = np.random.default_rng(seed)
    parts = []
    for number, name in enumerate(LONG_SERIES):
        length = rows - (5 if name == "d" else 0)
        steps = np.arange(length)
        values = (10 ** (number + 1)) * (1 + 0.2 * np.sin(2 * np.pi * steps / 7)) + rng.normal(0, 0.1, length)
        parts.append(pd.DataFrame({"store": name, "date": pd.date_range("2022-01-03", periods=length, freq="D"),
                                   "sales": values.round(3)}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def assert_batched_forecasts_are_each_series_own(csv: Path, model: Path) -> None:
    """A many-series model's predict runs every series' last window in shared batches; evaluate and plot
    go through one predictor per series (its own scaler): both must give the same forecasts."""
    import forecast_cli
    from forecast_cli.data.io import read_source
    from forecast_cli.data.panel import rebuild_panel
    from forecast_cli.many import predictors

    loaded = forecast_cli.load(model, warn=lambda message: None)
    batched = loaded.predict()
    inner = loaded._loaded
    panel = rebuild_panel(read_source(str(csv)).raw, "long.csv", inner.manifest.frame, ("store",),
                          inner.manifest.configs.data.calendar, inner.manifest.horizon)
    own = predictors(inner.series, inner.predictor.forward, inner.manifest.window, inner.manifest.horizon)
    for position, store in enumerate(inner.series.ids):
        frame = panel.frames[panel.ids.index(store)]
        single = own[position].ahead(frame, panel.freq)["sales"].to_numpy()
        np.testing.assert_allclose(batched.loc[batched["store"] == store, "sales"].to_numpy(), single, rtol=1e-6)


def random_forecaster(spec):
    """A Forecaster with weights drawn off the zero head init (seed 0), so the head and every gate matter
    to the output: what the engine-agreement tests compare."""
    import torch

    from forecast_cli.nn.model import Forecaster

    torch.manual_seed(0)
    model = Forecaster(spec)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.4)
    return model.eval()


def write_tiny_csv(path: Path, rows: int = TINY_ROWS) -> Path:
    make_tiny_frame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory) -> Path:
    """A session-wide tiny CSV; read it, never change it (copy it first)."""
    return write_tiny_csv(tmp_path_factory.mktemp("data") / "tiny.csv")


@dataclass
class Fitted:
    """The session model and what the fitting process itself computed with it in memory."""

    csv: Path
    model_dir: Path
    window: int
    horizon: int
    warnings: list[str]
    report: dict
    predictor: object  # forecast_cli.predictors.Predictor holding the in-memory trained module
    backtest: object  # forecast_cli.predictors.Backtest on the test part, computed inside fit


@pytest.fixture(scope="session")
def fitted(tiny_csv, tmp_path_factory) -> Fitted:
    """Fit once through `forecast_cli.fitting.fit`, keeping the in-memory predictor it scores the test part with."""
    from forecast_cli import fitting as fit_module
    from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
    from forecast_cli.store.manifest import Configs

    model_dir = tmp_path_factory.mktemp("model") / "forecast_model"
    warnings: list[str] = []
    configs = Configs(DataConfig(target=TINY_TARGET, window=TINY_WINDOW, horizon=TINY_HORIZON), ModelConfig(hidden_size=8),
                      TrainConfig(epochs=3, batch_size=32, device="cpu", seed=0))
    outcome = fit_module.fit(str(tiny_csv), configs, model_dir, warn=warnings.append)
    return Fitted(tiny_csv, model_dir, TINY_WINDOW, TINY_HORIZON, warnings, outcome.report,
                  outcome.predictor, outcome.test)


@pytest.fixture
def model_copy(fitted, tmp_path) -> Path:
    """A private copy of the session model directory, for tests that write to it."""
    return Path(shutil.copytree(fitted.model_dir, tmp_path / "forecast_model"))


def cli_runner():
    """A typer CliRunner whose results keep stderr apart from stdout (`result.stdout`, `result.stderr`).

    Click 8.2+ (and the click that typer vendors since 0.2x) always keeps them apart and no longer
    takes `mix_stderr`; click 8.1 and older mix them unless told `mix_stderr=False`.
    """
    from typer.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run_cli(*args: object, input: str | None = None):
    """Invoke the `forecast` app in-process with `args` (paths and numbers made str); `input` feeds stdin.

    Returns click's Result: exit_code, stdout, stderr, and exception (set when the command raised).
    """
    from forecast_cli.cli.app import app

    return cli_runner().invoke(app, [str(arg) for arg in args], input=input)


def forecast_executable() -> Path:
    """The installed console script beside this interpreter (the venv's bin/ or Scripts/)."""
    name = "forecast.exe" if os.name == "nt" else "forecast"
    return Path(sys.executable).with_name(name)


class TookTooLong(BaseException):
    """A read that blocked (a FIFO) or ran on (/dev/zero) instead of being refused at once."""


@contextlib.contextmanager
def hang_guard(seconds: float = 30.0):
    """Turn a hang into a test failure (a BaseException, so no `except Exception` in the code swallows it)."""
    def expire(signum, frame):
        raise TookTooLong(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
