"""The CLI through typer's CliRunner: help and README, data-only stdout, JSON shapes, re-reading the recorded CSV.

CliRunner keeps stdout and stderr apart (`result.stdout`, `result.stderr`), which is what lets these
tests check that warnings never reach the data stream.
"""

import io
import json
import os
import re
import shutil

import pandas as pd
import pytest
from conftest import REPO, TINY_HORIZON, TINY_ROWS, TINY_TARGET, make_tiny_frame, run_cli
from typer.main import get_command

from forecast_cli.cli.app import app

COMMANDS = sorted(get_command(app).commands)
METRIC_KEYS = {"mape", "smape", "mae", "rmse", "mase"}


def _flat(text: str) -> str:
    """Help text without rich's box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _last_date(csv_path) -> pd.Timestamp:
    return pd.Timestamp(pd.read_csv(csv_path)["date"].iloc[-1])


def test_commands_are_the_documented_ones():
    assert COMMANDS == ["backtest", "evaluate", "fit", "info", "plot", "predict"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_summary_and_an_example(command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0, result.output
    help_text = _flat(result.stdout)
    summary = get_command(app).commands[command].help.strip().splitlines()[0]
    assert summary and summary in help_text
    example = re.search(r"Example: (forecast \S+.*?)(?: Usage|$)", help_text)
    assert example and example.group(1).startswith(f"forecast {command}"), help_text[-300:]
    for path in re.findall(r"sample_data/\S+", example.group(1)):
        assert (REPO / path).is_file(), f"the example names {path}, which does not exist"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert f"forecast {command}" in (REPO / "README.md").read_text()


def test_predict_prints_horizon_rows_of_future_timestamps_and_only_data(fitted):
    result = run_cli("predict", "--model", str(fitted.model_dir))
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(io.StringIO(result.stdout))
    assert list(forecast.columns) == ["timestamp", "step", TINY_TARGET]
    assert len(forecast) == TINY_HORIZON
    stamps = pd.to_datetime(forecast["timestamp"], format="%Y-%m-%d")
    assert list(stamps) == list(pd.date_range(_last_date(fitted.csv), periods=TINY_HORIZON + 1, freq="D")[1:])
    assert stamps.is_monotonic_increasing and stamps.is_unique
    assert list(forecast["step"]) == list(range(1, TINY_HORIZON + 1))
    assert forecast[TINY_TARGET].notna().all()
    assert "warning" not in result.stdout
    # the file read unasked is named; fit said the data's one note, which the same file does not repeat
    assert result.stderr.splitlines() == [f"read {fitted.csv}, the training data recorded in {fitted.model_dir}"]


def test_predict_json_parses(fitted):
    result = run_cli("predict", str(fitted.csv), "--model", str(fitted.model_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["target"] == TINY_TARGET
    assert [row["step"] for row in payload["forecast"]] == list(range(1, TINY_HORIZON + 1))
    assert all(set(row) == {"timestamp", "step", TINY_TARGET} for row in payload["forecast"])


def test_predict_reads_stdin_with_dash(fitted):
    result = run_cli("predict", "-", "--model", str(fitted.model_dir), "--quiet", input=fitted.csv.read_text())
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(io.StringIO(result.stdout))) == TINY_HORIZON
    assert result.stderr == ""


def test_evaluate_json_has_exactly_the_documented_keys(fitted):
    result = run_cli("evaluate", "--model", str(fitted.model_dir), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"metrics", "per_step", "baselines", "horizon", "windows", "excluded_zero_targets"}
    assert set(payload["metrics"]) == METRIC_KEYS
    assert len(payload["per_step"]) == TINY_HORIZON == payload["horizon"]
    assert all(set(step) == METRIC_KEYS | {"step"} for step in payload["per_step"])
    assert set(payload["baselines"]) == {"naive", "seasonal_naive", "linear"}  # daily data: a season of 7
    assert all(set(scores) == METRIC_KEYS for scores in payload["baselines"].values())
    assert payload["excluded_zero_targets"] == 0
    lines = result.stderr.splitlines()
    assert lines[:1] == [f"read {fitted.csv}, the training data recorded in {fitted.model_dir}"]
    assert all(line.startswith("the model is worse than ") for line in lines[1:])


def test_evaluate_on_the_training_file_matches_the_fit_report(fitted):
    """Same origins (after the validation part) and the reloaded weights: the same numbers fit reported."""
    result = run_cli("evaluate", str(fitted.csv), "--model", str(fitted.model_dir), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((fitted.model_dir / "report.json").read_text())
    assert json.loads(result.stdout)["windows"] == len(fitted.backtest.origins)


def test_evaluate_writes_a_markdown_report(fitted, tmp_path):
    report = tmp_path / "report.md"
    result = run_cli("evaluate", "--model", str(fitted.model_dir), "--report", str(report), "--quiet")
    assert result.exit_code == 0, result.output
    assert report.read_text().startswith("# Backtest on ")
    assert "| naive |" in report.read_text()


def test_info_shows_the_manifest(fitted):
    result = run_cli("info", "--model", str(fitted.model_dir))
    assert result.exit_code == 0, result.output
    assert "forecast model" in result.stdout and TINY_TARGET in result.stdout
    as_json = run_cli("info", "--model", str(fitted.model_dir), "--json")
    assert json.loads(as_json.stdout)["frame"]["target"] == TINY_TARGET


def test_unknown_target_is_one_line_on_stderr_with_exit_2(tiny_csv, tmp_path):
    result = run_cli("fit", str(tiny_csv), "--target", "Sales", "--out", str(tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"error: {tiny_csv}: target column 'Sales' not found (columns: date, sales, temp). "
                             "Did you mean 'sales'? Choose it with --target.\n")
    assert not (tmp_path / "m").exists()


def _fit_args(csv: str, *extra: str) -> list[str]:
    return ["fit", csv, "--target", TINY_TARGET, "--window", "10", "--horizon", str(TINY_HORIZON),
            "--epochs", "2", "--hidden", "8", *extra]


def test_bare_predict_rereads_the_recorded_csv_with_appended_rows(tiny_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(tiny_csv, "data.csv")
    fitted = run_cli(*_fit_args("data.csv"))
    assert fitted.exit_code == 0, fitted.output
    assert fitted.stdout == ""
    first = run_cli("predict")
    windows_before = json.loads(run_cli("evaluate", "--json").stdout)["windows"]
    assert first.exit_code == 0, first.output

    appended = make_tiny_frame(TINY_ROWS + 5).iloc[TINY_ROWS:]
    appended.to_csv("data.csv", mode="a", header=False, index=False)
    second = run_cli("predict")
    assert second.exit_code == 0, second.output

    before = pd.Timestamp(pd.read_csv(io.StringIO(first.stdout))["timestamp"].iloc[0])
    after = pd.Timestamp(pd.read_csv(io.StringIO(second.stdout))["timestamp"].iloc[0])
    assert after - before == pd.Timedelta(days=5)
    assert after == pd.Timestamp(appended["date"].iloc[-1]) + pd.Timedelta(days=1)
    assert json.loads(run_cli("evaluate", "--json").stdout)["windows"] == windows_before + 5


def test_data_without_time_gives_step_numbers_and_no_seasonal_baseline(tmp_path):
    csv = tmp_path / "rows.csv"
    make_tiny_frame(80).drop(columns=["date", "temp"]).to_csv(csv, index=False)
    model = tmp_path / "model"
    fitted = run_cli(*_fit_args(str(csv), "--out", str(model)))
    assert fitted.exit_code == 0, fitted.output
    assert "no time column found" in fitted.stderr
    forecast = pd.read_csv(io.StringIO(run_cli("predict", "--model", str(model)).stdout))
    assert list(forecast["step"]) == list(range(1, TINY_HORIZON + 1))
    payload = json.loads(run_cli("evaluate", "--model", str(model), "--json").stdout)
    assert set(payload["baselines"]) == {"naive", "linear"}


def test_fit_through_a_symlinked_out_writes_the_directory_it_points_to(tmp_path, tiny_csv):
    fit = ["fit", str(tiny_csv), "--target", "sales", "--epochs", "1", "--hidden", "4", "--window", "5", "--quiet"]
    assert run_cli(*fit, "--out", str(tmp_path / "m")).exit_code == 0
    before = (tmp_path / "m" / "model.safetensors").read_bytes()
    (tmp_path / "link").symlink_to("m")
    result = run_cli(*fit, "--out", str(tmp_path / "link"), "--seed", "1")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "link").is_symlink() and os.readlink(tmp_path / "link") == "m"
    assert (tmp_path / "m" / "model.safetensors").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.lock", "link", "m"]


@pytest.mark.parametrize("args", [["predict", "--output"], ["evaluate", "--report"], ["plot", "--out"]])
def test_an_output_file_that_is_a_symlink_is_written_through(fitted, tmp_path, args):
    (tmp_path / "real.png").write_text("old")
    (tmp_path / "link.png").symlink_to("real.png")
    result = run_cli(*args, str(tmp_path / "link.png"), "--model", str(fitted.model_dir), str(fitted.csv),
                     *(["--quiet"] if args[0] != "evaluate" else []))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "link.png").is_symlink()
    assert (tmp_path / "real.png").read_bytes() != b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "real.png"]
