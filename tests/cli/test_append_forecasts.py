"""Forecasts appended run after run (cron): `--no-header` for `>>`, `--output FILE --append` writing the
header only into a new or empty file, and a file of other columns refused."""

import io

import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET
from typer.testing import CliRunner

from forecast_cli.cli.app import app

HEADER = f"timestamp,step,{TINY_TARGET}"


def _predict(fitted, *extra):
    return CliRunner().invoke(app, ["predict", str(fitted.csv), "--model", str(fitted.model_dir), "--quiet",
                                    *map(str, extra)])


def test_no_header_prints_only_the_rows(fitted):
    result = _predict(fitted, "--no-header")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == TINY_HORIZON and HEADER not in result.stdout
    with_header = _predict(fitted).stdout.splitlines()
    assert with_header == [HEADER, *lines]


def test_append_writes_the_header_once_then_only_rows(fitted, tmp_path):
    target = tmp_path / "forecasts.csv"
    for _ in range(2):
        result = _predict(fitted, "--output", target, "--append")
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
    lines = target.read_text().splitlines()
    assert lines[0] == HEADER and lines.count(HEADER) == 1
    assert len(pd.read_csv(target)) == 2 * TINY_HORIZON


def test_append_to_an_empty_file_writes_the_header(fitted, tmp_path):
    target = tmp_path / "forecasts.csv"
    target.write_text("")
    assert _predict(fitted, "--output", target, "--append").exit_code == 0
    assert target.read_text().splitlines()[0] == HEADER


def test_append_to_a_file_without_a_final_newline_starts_a_new_line(fitted, tmp_path):
    target = tmp_path / "forecasts.csv"
    first = _predict(fitted).stdout
    target.write_text(first.rstrip("\n"))
    assert _predict(fitted, "--output", target, "--append").exit_code == 0
    assert target.read_text() == first + first.split("\n", 1)[1]


def test_append_with_no_header_into_a_headerless_file(fitted, tmp_path):
    target = tmp_path / "rows.csv"
    for _ in range(2):
        assert _predict(fitted, "--output", target, "--append", "--no-header").exit_code == 0
    frame = pd.read_csv(target, header=None)
    assert frame.shape == (2 * TINY_HORIZON, 3)


def test_append_to_a_file_of_other_columns_is_refused_and_leaves_it_alone(fitted, tmp_path):
    target = tmp_path / "forecasts.csv"
    target.write_text("timestamp,step,class,p_0,p_1\n2021-05-04,1,0,0.6,0.4\n")
    before = target.read_bytes()
    result = _predict(fitted, "--output", target, "--append")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"error: --append: {target} starts with 'timestamp,step,class,p_0,p_1', not this "
                             f"forecast's columns '{HEADER}'; append to a file with the same columns, or write a "
                             "new one.\n")
    assert target.read_bytes() == before


@pytest.mark.parametrize("extra, message", [
    (["--append"], "error: --append adds rows to a file: name it with --output FILE (on stdout, use --no-header "
                   "with >>).\n"),
    (["--append", "--output", "f.json", "--format", "json"],
     "error: --append adds CSV rows; it cannot be used with --format json.\n"),
    (["--no-header", "--format", "json"], "error: --no-header applies to CSV; it cannot be used with --format json.\n"),
])
def test_impossible_combinations_are_refused_before_any_work(fitted, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    result = _predict(fitted, *extra)
    assert result.exit_code == 2
    assert result.stderr == message
    assert list(tmp_path.iterdir()) == []


def test_stdout_csv_is_unchanged_without_the_new_options(fitted):
    frame = pd.read_csv(io.StringIO(_predict(fitted).stdout))
    assert list(frame.columns) == ["timestamp", "step", TINY_TARGET] and len(frame) == TINY_HORIZON
