"""Without a terminal (cron, a pipe) a fit prints one line per epoch on stderr, and a slow read one line
saying what it read; --quiet silences both; stdout stays data only."""

import re

from conftest import TINY_HORIZON, TINY_TARGET
from typer.testing import CliRunner

from forecast_cli import notes
from forecast_cli.cli.app import app
from forecast_cli.cli.progress import epoch_line
from forecast_cli.nn.train import EpochStats

EPOCH_LINE = re.compile(r"epoch (\d+)/3: train loss [0-9.e+-]+, val loss [0-9.e+-]+, \d+\.\ds")


def _fit(csv, out, *extra):
    return CliRunner().invoke(app, ["fit", str(csv), "--target", TINY_TARGET, "--window", "10", "--horizon",
                                    str(TINY_HORIZON), "--epochs", "3", "--patience", "10", "--hidden", "8",
                                    "--out", str(out), *extra])


def test_fit_without_a_terminal_prints_one_line_per_epoch_on_stderr(tiny_csv, tmp_path):
    result = _fit(tiny_csv, tmp_path / "m")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    epochs = [EPOCH_LINE.fullmatch(line) for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert all(epochs) and [int(match.group(1)) for match in epochs] == [1, 2, 3], result.stderr


def test_fit_quiet_prints_no_epoch_lines(tiny_csv, tmp_path):
    result = _fit(tiny_csv, tmp_path / "m", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_epoch_line_reads_epoch_of_total_losses_and_seconds():
    assert epoch_line(EpochStats(7, 0.012345, 0.0234567, 0.4321), 60) == (
        "epoch 7/60: train loss 0.01235, val loss 0.02346, 0.4s")
    assert epoch_line(EpochStats(1, 2.0, None, 12.0), 5) == "epoch 1/5: train loss 2, 12.0s"


def test_a_slow_read_says_what_it_read_and_how_long_it_took(fitted, monkeypatch):
    monkeypatch.setattr(notes, "SLOW_READ_SECONDS", 0.0)  # every read counts as slow
    result = CliRunner().invoke(app, ["predict", str(fitted.csv), "--model", str(fitted.model_dir)])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert re.fullmatch(rf"read {re.escape(str(fitted.csv))}: 120 rows, 3 columns in \d+\.\ds", lines[0]), lines
    quiet = CliRunner().invoke(app, ["predict", str(fitted.csv), "--model", str(fitted.model_dir), "--quiet"])
    assert quiet.stderr == ""


def test_a_fast_read_says_nothing_about_reading(fitted):
    result = CliRunner().invoke(app, ["predict", str(fitted.csv), "--model", str(fitted.model_dir)])
    assert result.exit_code == 0, result.stderr
    assert not any(line.startswith("read ") for line in result.stderr.splitlines())


def test_the_api_default_warn_drops_info_lines_and_keeps_warnings(recwarn):
    from forecast_cli.api import ForecastWarning, _warn

    _warn(notes.Info("read x.csv: 3 rows, 2 columns in 1.5s"))
    _warn("dropped 1 leading row(s) with missing values.")
    assert [str(w.message) for w in recwarn if w.category is ForecastWarning] == [
        "dropped 1 leading row(s) with missing values."]
