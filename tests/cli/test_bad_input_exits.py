"""Bad input ends in one `error:` line naming the problem, exit 2, no traceback and nothing written.

A corpus of broken CSVs is generated here (each case small and readable beside its expectation),
plus options out of range, usage errors, predict/evaluate data that does not fit the model,
`evaluate --fail-above` (exit 3) and the internal-error path (exit 1).
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import pytest
from conftest import run_cli

TINY = ["--epochs", "1", "--hidden", "4", "--window", "5", "--quiet"]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads and writes whatever the permissions


def invoke(args: list):
    """The CLI on a list of arguments (run_cli takes them spread out)."""
    return run_cli(*args)


def dates(n: int, start: str = "2021-03-01") -> list[str]:
    import pandas as pd

    return [stamp.strftime("%Y-%m-%d") for stamp in pd.date_range(start, periods=n)]


def series_csv(n: int = 60, value=lambda i: f"{10 + math.sin(i / 3):.3f}", header: str = "date,value",
               sep: str = ",") -> str:
    return header + "\n" + "\n".join(f"{d}{sep}{value(i)}" for i, d in enumerate(dates(n))) + "\n"


def replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def assert_one_line_error(result, code: int, *needles: str) -> str:
    """The exit code, one stderr line starting `error:` that holds every needle, no traceback."""
    stderr = result.stderr
    assert result.exit_code == code, (result.exit_code, stderr, result.exception)
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.stdout == ""
    return lines[0]


def fit_args(path: Path, out: Path, *extra: str) -> list:
    return ["fit", path, "--target", "value", "--out", out, *TINY, *extra]


# name -> (file content, expected phrases in the one error line)
BAD_CSVS = {
    "empty": (b"", ["bad.csv", "empty"]),
    "only_blank_lines": (b"\n \n\n", ["bad.csv", "empty"]),
    "header_only": (b"date,value\n", ["bad.csv", "header but no rows"]),
    "binary_png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ["bad.csv", "binary"]),
    "json": (b'[{"date": "2021-03-01", "value": 1}]\n', ["bad.csv", "looks like JSON"]),
    "html_page": (b"<!DOCTYPE html>\n<html><body>Too many requests</body></html>\n", ["bad.csv", "HTML"]),
    "colon_separated": (series_csv(header="date:value", sep=":").encode(), ["one column", "'date:value'", "semicolon"]),
    "target_misspelled": (series_csv(header="date,Value").encode(), ["'value' not found", "Did you mean 'Value'"]),
    "target_text": (replace_line(series_csv(), 9, "2021-03-08,abc").encode(), ["'value'", "line 9", "'abc'"]),
    "target_all_missing": (series_csv(header="date,value,other", value=lambda i: f",{i % 7}").encode(),
                           ["'value'", "no values"]),
    "target_constant": (series_csv(value=lambda i: "5").encode(), ["'value'", "constant"]),
    "time_unparsable": (replace_line(series_csv(), 6, "someday,1.0").encode(), ["'date'", "line 6", "'someday'"]),
    "time_mixed_formats": (replace_line(series_csv(), 6, "03/05/2021,1.0").encode(),
                           ["'date'", "line 6", "'03/05/2021'", "one date format"]),
    "time_duplicated": (replace_line(series_csv(), 6, "2021-03-04,1.0").encode(),
                        ["2021-03-04", "more than once", "line"]),
    "time_cell_empty": (replace_line(series_csv(), 7, ",1.0").encode(), ["'date'", "empty on line 7"]),
    "time_parts_invalid": (("year,month,value\n" + "\n".join(f"2020,{m},{m}" for m in range(1, 40))).encode(),
                           ["year, month", "line 14", "month=13"]),
    "too_few_rows": (series_csv(n=6).encode(), ["needs at least", "has 6"]),
    "infinity": (replace_line(series_csv(), 12, "2021-03-11,inf").encode(), ["'value'", "line 12", "infinite"]),
    "overflow_in_training_part": (series_csv(value=lambda i: "1e308" if i % 2 else "-1e308").encode(),
                                  ["'value'", "too large to normalize"]),
    "overflow_in_test_part": (series_csv(value=lambda i: "1e300" if i == 57 else f"{i % 7}").encode(),
                              ["'value'", "1e+300", "too far from the training values"]),
    "ambiguous_thousands": (series_csv(value=lambda i: f'"{1000 + 37 * i:,}"').encode(),
                            ["'value'", "could mean", "decimal point"]),
    "mixed_number_styles": (series_csv(value=lambda i: '"1,234.5"' if i % 2 else '"2,5"').encode(),
                            ["'value'", "mixes thousands commas"]),
    "ragged_line": ((series_csv() + "2021-05-01,1,2,3\n").encode(), ["cannot be parsed", "fields"]),
    "unclosed_quote": (('date,value\n"2021-01-01,1\n' + series_csv().split("\n", 1)[1]).encode(),
                       ["cannot be parsed", "quotes"]),
    "target_is_time_column": (series_csv().encode(), ["time column"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_gives_one_line_exit_2_and_writes_nothing(tmp_path, case):
    content, needles = BAD_CSVS[case]
    data = tmp_path / "bad.csv"
    data.write_bytes(content)
    extra = ["--target", "date"] if case == "target_is_time_column" else []
    result = run_cli(*fit_args(data, tmp_path / "model", *extra))
    assert_one_line_error(result, 2, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_missing_file_is_named(tmp_path):
    result = run_cli(*fit_args(tmp_path / "nope.csv", tmp_path / "model"))
    assert_one_line_error(result, 2, "nope.csv", "not found")


def test_directory_as_data_is_refused(tmp_path):
    result = run_cli(*fit_args(tmp_path, tmp_path / "model"))
    assert_one_line_error(result, 2, "is a directory")


@pytest.mark.skipif(AS_ROOT, reason="root reads files whatever their permissions")
def test_unreadable_file_is_named(tmp_path):
    data = tmp_path / "locked.csv"
    data.write_text(series_csv())
    data.chmod(0)
    result = run_cli(*fit_args(data, tmp_path / "model"))
    assert_one_line_error(result, 2, "locked.csv", "cannot be read")


def test_descending_rows_are_sorted_with_a_note(tmp_path):
    data = tmp_path / "desc.csv"
    text = series_csv()
    header, *rows = text.strip().splitlines()
    data.write_text("\n".join([header, *reversed(rows)]) + "\n")
    result = run_cli("fit", data, "--target", "value", "--out", tmp_path / "model", "--epochs", "1", "--hidden", "4")
    assert result.exit_code == 0, result.stderr
    assert "not in time order; sorted by date" in result.stderr
    assert (tmp_path / "model" / "model.safetensors").is_file()


def test_shuffled_rows_give_the_same_model_as_sorted_rows(tmp_path):
    header, *rows = series_csv().strip().splitlines()
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    for name, body in (("sorted", rows), ("shuffled", shuffled)):
        (tmp_path / f"{name}.csv").write_text("\n".join([header, *body]) + "\n")
        result = run_cli(*fit_args(tmp_path / f"{name}.csv", tmp_path / name))
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "sorted" / "model.safetensors").read_bytes() == (
        tmp_path / "shuffled" / "model.safetensors").read_bytes()


@pytest.mark.parametrize("style, value, sep", [
    ("thousands commas", lambda i: f'"{1000 + 37 * i:,}.5"', ","),
    ("decimal commas", lambda i: f"{10 + i % 7},{i % 10}5", ";"),
])
def test_unambiguous_number_styles_are_read_with_a_note(tmp_path, style, value, sep):
    data = tmp_path / "styled.csv"
    data.write_text(series_csv(value=value, header=f"date{sep}value", sep=sep))
    result = run_cli("fit", data, "--target", "value", "--out", tmp_path / "model", "--epochs", "1", "--hidden", "4",
                     "--window", "5")
    assert result.exit_code == 0, result.stderr
    assert f"numbers written with {style}" in result.stderr


def test_day_first_dates_are_read_in_order(tmp_path):
    data = tmp_path / "dayfirst.csv"
    lines = [f"{d[8:10]}/{d[5:7]}/{d[:4]},{10 + math.sin(i / 3):.3f}" for i, d in enumerate(dates(60, "2021-01-01"))]
    data.write_text("date,value\n" + "\n".join(lines) + "\n")
    result = run_cli(*fit_args(data, tmp_path / "model"))
    assert result.exit_code == 0, result.stderr
    forecast = run_cli("predict", "--model", tmp_path / "model")
    assert forecast.stdout.splitlines()[1].startswith("2021-03-02,1,"), forecast.stdout


def test_utf16_csv_from_excel_is_read(tmp_path):
    data = tmp_path / "unicode.csv"
    data.write_bytes(series_csv().encode("utf-16"))
    result = run_cli(*fit_args(data, tmp_path / "model"))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("option, value, needle", [
    ("--window", "0", "--window must be 1 or more, not 0"),
    ("--horizon", "0", "--horizon must be 1 or more"),
    ("--horizon", "500", "needs at least"),
    ("--window", "100000", "needs at least"),
    ("--lr", "-0.1", "--lr must be a number greater than 0, not -0.1"),
    ("--lr", "nan", "--lr must be"),
    ("--lr", "inf", "--lr must be"),
    ("--batch-size", "0", "--batch-size must be 1 or more"),
    ("--dropout", "1", "--dropout must be in [0, 1)"),
    ("--val-frac", "0.95", "--val-frac must be in [0, 0.9)"),
    ("--weight-decay", "-1", "--weight-decay must be"),
    ("--clip-grad", "nan", "--clip-grad must be"),
    ("--seed", str(2**32), "--seed must be between 0 and 4294967295"),
    ("--season", "0", "--season must be 1 or more"),
    ("--cell", "rnn", "--cell must be 'lstm', 'gru' or 'linear'"),
    ("--norm", "minmax", "--norm must be"),
    ("--device", "tpu", "--device must be"),
    ("--hidden", "9999999999999999999", "--hidden 9999999999999999999 is more than the 8,192"),
    ("--hidden", "9" * 5000, "Invalid value for '--hidden'"),
    ("--seed", str(10**30), "--seed must be between 0 and 4294967295"),
    ("--lr", "1e999", "--lr must be a number greater than 0, not inf"),
    ("--season", str(10**30), "--season 1000000000000000000000000000000 is more than the 100,000"),
    ("--layers", "10000", "--layers 10000 is more than the 32"),
])
def test_option_out_of_range_is_refused_before_anything_is_written(tmp_path, option, value, needle):
    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    result = run_cli(*fit_args(data, tmp_path / "model"), option, value)
    assert_one_line_error(result, 2, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.csv"]


@pytest.mark.parametrize("args, needle", [
    (["fit", "x.csv", "--target", "v", "--bogus"], "No such option: --bogus"),
    (["fit", "x.csv", "--target", "v", "--window", "abc"], "--window must be auto or a number of rows, not 'abc'"),
    (["fit", "x.csv"], "--target is missing"),
    (["nosuch"], "No such command 'nosuch'"),
])
def test_usage_errors_are_one_line_with_exit_2(args, needle):
    result = run_cli(*args)
    line = assert_one_line_error(result, 2, needle, "--help")
    assert "╭" not in line


def test_unwritable_out_under_a_file_fails_before_training(tmp_path, monkeypatch):
    import forecast_cli.nn.train

    monkeypatch.setattr(forecast_cli.nn.train, "train_model", lambda *a, **k: pytest.fail("training started"))
    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    (tmp_path / "afile").write_text("x")
    result = run_cli(*fit_args(data, tmp_path / "afile" / "sub" / "model"))
    assert_one_line_error(result, 2, "afile is a file")


@pytest.mark.skipif(AS_ROOT, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_fails_before_training(tmp_path, monkeypatch):
    import forecast_cli.nn.train

    monkeypatch.setattr(forecast_cli.nn.train, "train_model", lambda *a, **k: pytest.fail("training started"))
    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    (tmp_path / "locked").mkdir(mode=0o500)
    result = run_cli(*fit_args(data, tmp_path / "locked" / "model"))
    assert_one_line_error(result, 2, "permission denied")


@pytest.mark.parametrize("failure", ["os", "safetensors"])
def test_disk_full_while_saving_keeps_the_previous_model(tmp_path, monkeypatch, failure):
    import errno

    import safetensors.torch
    from safetensors import SafetensorError

    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    assert run_cli(*fit_args(data, tmp_path / "model")).exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()}

    def full(*args, **kwargs):
        if failure == "os":
            raise OSError(errno.ENOSPC, "No space left on device")
        # what safetensors really raises on a full disk (seen on a 48 KiB tmpfs)
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    result = run_cli(*fit_args(data, tmp_path / "model", "--seed", "1"))
    assert_one_line_error(result, 2, "No space left on device", "nothing was replaced")
    assert {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model on `date, value, load` and the CSV it was trained on."""
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "train.csv"
    data.write_text(series_csv(header="date,value,load", value=lambda i: f"{10 + math.sin(i / 3):.3f},{i % 5}"))
    result = run_cli("fit", data, "--target", "value", "--out", folder / "model", *TINY)
    assert result.exit_code == 0, result.stderr
    return folder


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_data_lacking_a_trained_column_is_refused(trained, tmp_path, command):
    data = tmp_path / "new.csv"
    data.write_text(series_csv())
    result = run_cli(command, data, "--model", trained / "model")
    assert_one_line_error(result, 2, "'load'", "which the model was trained on, is missing")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_data_with_a_trained_column_of_another_type_is_refused(trained, tmp_path, command):
    data = tmp_path / "new.csv"
    data.write_text(series_csv(header="date,value,load", value=lambda i: f"{i % 3 + 1},{'high' if i % 2 else 'low'}"))
    result = run_cli(command, data, "--model", trained / "model")
    assert_one_line_error(result, 2, "'load'", "line 2", "'low'", "trained on it as numbers")


def test_predict_refuses_a_value_too_far_to_normalize(trained, tmp_path):
    data = tmp_path / "new.csv"
    data.write_text(series_csv(header="date,value,load", value=lambda i: f"{'1e300' if i == 58 else 10},1"))
    result = run_cli("predict", data, "--model", trained / "model")
    assert_one_line_error(result, 2, "'value'", "1e+300", "too far")


def test_predict_refuses_data_shorter_than_the_window(trained, tmp_path):
    data = tmp_path / "new.csv"
    data.write_text(series_csv(n=3, header="date,value,load", value=lambda i: f"{10 + i},1"))
    result = run_cli("predict", data, "--model", trained / "model")
    assert_one_line_error(result, 2, "the data has 3 usable rows but the model needs the last 5.")


def test_fail_above_exits_3_when_the_metric_is_worse(trained):
    result = run_cli("evaluate", "--model", trained / "model", "--json", "--fail-above", "mape=0.0000001")
    assert result.exit_code == 3, result.stderr
    assert "mape" in result.stderr and "above the limit" in result.stderr
    assert '"metrics"' in result.stdout  # the report is still printed before the alert


def test_fail_above_exits_0_when_the_metric_is_within(trained):
    result = run_cli("evaluate", "--model", trained / "model", "--json", "--fail-above", "mape=1000")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("spec, needle", [("bogus=1", "unknown metric 'bogus'"), ("mape=abc", "not a number"),
                                          ("mape=nan", "'nan' is not a finite number"),
                                          ("rmse=inf", "'inf' is not a finite number")])
def test_fail_above_with_a_bad_spec_is_a_usage_error(trained, spec, needle):
    result = run_cli("evaluate", "--model", trained / "model", "--fail-above", spec)
    assert_one_line_error(result, 2, needle)


@pytest.mark.parametrize("args", [["predict", "--output"], ["evaluate", "--report"], ["plot", "--out"]])
def test_an_output_path_that_is_a_folder_is_refused(trained, tmp_path, args):
    folder = tmp_path / "taken.png"
    folder.mkdir()
    result = run_cli(*args, folder, "--model", trained / "model")
    assert_one_line_error(result, 2, str(folder), "is a folder")
    assert list(folder.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["taken.png"]


def test_internal_error_is_one_line_asking_for_a_report(trained, monkeypatch):
    import forecast_cli.predict

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(forecast_cli.predict, "predict", broken)
    result = run_cli("predict", "--model", trained / "model")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error: ZeroDivisionError: planted bug" in lines[0] and "report" in lines[0]
    debug = run_cli("--debug", "predict", "--model", trained / "model")
    assert debug.exit_code == 1 and "Traceback" in debug.stderr


def test_a_network_too_large_for_any_machine_is_refused_before_it_is_built(tmp_path, monkeypatch):
    import forecast_cli.nn.model

    monkeypatch.setattr(forecast_cli.nn.model, "Forecaster", lambda *a, **k: pytest.fail("the network was built"))
    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    result = invoke([*fit_args(data, tmp_path / "model"), "--hidden", "8192", "--layers", "32"])
    assert_one_line_error(result, 2, "--hidden 8192 with --layers 32", "more than the 1,073,741,824")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.csv"]


LONG_NAME = "x" * 300  # longer than any filesystem allows for one name (ENAMETOOLONG)


@pytest.mark.parametrize("where", ["data", "--out"])
def test_fit_on_a_path_the_filesystem_cannot_name_is_one_line_exit_2(tmp_path, where):
    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    args = fit_args(tmp_path / f"{LONG_NAME}.csv", tmp_path / "model") if where == "data" else \
        fit_args(data, tmp_path / LONG_NAME)
    assert_one_line_error(invoke(args), 2, "File name too long")


@pytest.mark.parametrize("args", [["predict", "--output", f"{LONG_NAME}.csv"], ["predict", "--output", "o\x00.csv"],
                                  ["evaluate", "--report", f"{LONG_NAME}.md"], ["plot", "--out", f"{LONG_NAME}.png"]])
def test_an_output_path_the_filesystem_cannot_name_is_one_line_exit_2(trained, tmp_path, args):
    command, option, name = args
    result = invoke([command, option, tmp_path / name, "--model", trained / "model", "--quiet"])
    assert_one_line_error(result, 2, option if command == "plot" else "cannot write there")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", ["pwrite", "ftruncate", "flock"])
def test_a_full_disk_or_lockless_filesystem_at_the_lock_is_one_line_exit_2(tmp_path, monkeypatch, failure):
    import errno

    import forecast_cli.store.lock as lock

    data = tmp_path / "ok.csv"
    data.write_text(series_csv())
    code = errno.ENOLCK if failure == "flock" else errno.ENOSPC

    def refuse(*args):
        raise OSError(code, os.strerror(code))

    target = lock.fcntl if failure == "flock" else lock.os
    monkeypatch.setattr(target, failure, refuse)
    result = invoke(fit_args(data, tmp_path / "model"))
    assert_one_line_error(result, 2, "--out", "lock", os.strerror(code))
    assert not (tmp_path / "model").exists()
