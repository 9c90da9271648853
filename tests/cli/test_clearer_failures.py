"""Failures that say what is really wrong: several series in one file, evaluate on data that ends
inside the fit period, a file without its header line; `info` says the frequency in words and where
the data came from."""

import json

import pandas as pd
from conftest import TINY_HORIZON, TINY_TARGET, make_tiny_frame
from typer.testing import CliRunner

from forecast_cli.cli.app import app


def _invoke(*args, **kwargs):
    return CliRunner().invoke(app, [str(arg) for arg in args], **kwargs)


def _fit_args(csv, out):
    return ["fit", csv, "--target", TINY_TARGET, "--window", "10", "--horizon", TINY_HORIZON, "--epochs", "1",
            "--hidden", "8", "--out", out]


def test_a_long_format_file_of_several_series_names_the_id_column(tmp_path):
    csv = tmp_path / "stores.csv"
    frames = [make_tiny_frame(60, seed=k).assign(store=name) for k, name in enumerate(["north", "south"])]
    pd.concat(frames)[["store", "date", "sales", "temp"]].to_csv(csv, index=False)
    result = _invoke(*_fit_args(csv, tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {csv}: several series in one file (column 'store' repeats timestamps): 2 series ('north', "
        "'south'). A model learns one series; pick one and keep its rows with the header, e.g. "
        f"awk -F, 'NR==1 || $1==\"north\"' {csv} > one_series.csv\n")


def test_duplicate_timestamps_without_a_series_column_keep_the_old_advice(tmp_path):
    csv = tmp_path / "dup.csv"
    frame = make_tiny_frame(60)
    pd.concat([frame, frame.iloc[[5]]]).to_csv(csv, index=False)
    result = _invoke(*_fit_args(csv, tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stderr.endswith("appears more than once (line 62); keep one row per timestamp.\n"), result.stderr


def _val_end(fitted) -> pd.Timestamp:
    return pd.Timestamp(json.loads((fitted.model_dir / "manifest.json").read_text())["data"]["val_end"])


def test_evaluate_on_data_that_ends_before_the_validation_end_says_so(fitted, tmp_path):
    val_end = _val_end(fitted)
    csv = tmp_path / "early.csv"
    frame = make_tiny_frame()
    frame[pd.to_datetime(frame["date"]) <= val_end - pd.Timedelta(days=10)].to_csv(csv, index=False)
    result = _invoke("evaluate", csv, "--model", fitted.model_dir, "--quiet")
    assert result.exit_code == 2
    last = (val_end - pd.Timedelta(days=10)).date()
    assert result.stderr == (
        f"error: {csv}: the data ends on {last}, before the end of the model's validation part ({val_end.date()}); "
        "evaluate scores only forecasts after it, which the model was neither fitted nor tuned on. Give data "
        f"that runs past {val_end.date()} (the training file with newer rows, or newer data).\n")


def test_evaluate_on_data_just_past_the_validation_end_says_how_many_rows_it_needs(fitted, tmp_path):
    val_end = _val_end(fitted)
    csv = tmp_path / "short.csv"
    frame = make_tiny_frame()
    frame[pd.to_datetime(frame["date"]) <= val_end + pd.Timedelta(days=1)].to_csv(csv, index=False)
    result = _invoke("evaluate", csv, "--model", fitted.model_dir, "--quiet")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {csv}: the data has 1 row(s) after the end of the model's validation part ({val_end.date()}); "
        f"a backtest needs {TINY_HORIZON} (the horizon) after it. Give data with more recent rows.\n")


def test_a_file_without_its_header_line_on_stdin_is_recognised(fitted):
    rows = fitted.csv.read_text().splitlines()[-30:]
    result = _invoke("predict", "-", "--model", fitted.model_dir, input="\n".join(rows) + "\n")
    assert result.exit_code == 2
    first = rows[0].split(",")
    assert result.stderr == (
        f"error: <stdin>: the first line looks like data, not a header ({first[0]}, {first[1]}, {first[2]}); the "
        "model needs a header line naming its columns (date, sales, temp). Add it, e.g. "
        f"(head -n 1 {fitted.csv.name}; tail -n 200 {fitted.csv.name}) | forecast predict -\n")


def test_fit_on_a_file_without_its_header_line_says_so(tiny_csv, tmp_path):
    csv = tmp_path / "headless.csv"
    lines = tiny_csv.read_text().splitlines()[2:]  # the header gone (and line 2, which has a blank)
    csv.write_text("\n".join(lines) + "\n")
    result = _invoke(*_fit_args(csv, tmp_path / "m"))
    assert result.exit_code == 2
    shown = ", ".join(lines[0].split(","))
    assert result.stderr == (f"error: {csv}: the first line looks like data, not a header ({shown}); fit needs a "
                             "header line naming the columns, 'sales' among them. Add it.\n")


def test_a_renamed_column_is_still_reported_as_missing(fitted, tmp_path):
    csv = tmp_path / "renamed.csv"
    make_tiny_frame().rename(columns={"temp": "temperature"}).to_csv(csv, index=False)
    result = _invoke("predict", csv, "--model", fitted.model_dir)
    assert result.exit_code == 2
    assert "column 'temp', which the model was trained on, is missing" in result.stderr


def test_info_says_the_frequency_in_words_and_which_file_commands_read(fitted, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # no wrapping of long temporary paths in rich's table
    result = _invoke("info", "--model", fitted.model_dir)
    assert result.exit_code == 0, result.stderr
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "frequency daily (D)" in flat
    assert f"read without DATA {fitted.csv}" in flat
