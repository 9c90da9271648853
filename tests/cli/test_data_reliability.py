"""Files that used to hang, mislead or be silently misread: each ends in one accurate line, or is read right.

Fit goes through the CLI (CliRunner), as a user would run it; the helpers are test_bad_input_exits'.
"""

from __future__ import annotations

from conftest import run_cli
from test_bad_input_exits import assert_one_line_error, fit_args, series_csv


def invoke(args):
    """The CLI on a list of arguments (the shared run_cli takes them spread out)."""
    return run_cli(*args)


def test_a_200_mb_style_runaway_cell_is_refused_at_once(tmp_path):
    data = tmp_path / "runaway.csv"
    data.write_text("date,value\n" + "2021-03-01" * 150_000 + ",1\n")  # header and one 1.5 MB line
    result = invoke(fit_args(data, tmp_path / "model"))
    assert_one_line_error(result, 2, "runaway.csv: line 2 holds a field of 1,500,000 characters in column 'date'",
                          "1 MiB")


def test_a_header_and_one_row_names_the_rows_needed(tmp_path):
    data = tmp_path / "one.csv"
    data.write_text(series_csv(n=1))
    result = invoke(fit_args(data, tmp_path / "model"))
    assert_one_line_error(result, 2, "one.csv: has a header and only one row of data; fit needs at least 30 rows")


def test_a_dos_end_of_file_mark_is_not_a_date_error(tmp_path):
    data = tmp_path / "dos.csv"
    data.write_bytes(series_csv().replace("\n", "\r\n").encode() + b"\x1a")
    result = invoke(fit_args(data, tmp_path / "model"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_a_column_named_twice_is_refused_naming_it(tmp_path):
    data = tmp_path / "twice.csv"
    data.write_text(series_csv(header="date,value,value", value=lambda i: f"{i % 5},{i % 3}"))
    result = invoke(fit_args(data, tmp_path / "model"))
    assert_one_line_error(result, 2, "twice.csv: the header (line 1) names column 'value' twice, as fields 2 and 3; "
                                     "rename one of them.")


def _shampoo(years: int = 3) -> str:
    """The shampoo-sales layout: quoted `1-01` ... `3-12` months, the year without a century."""
    rows = [f'"{year}-{month:02d}",{100 + 7 * month + 30 * year + (month % 3)}.5'
            for year in range(1, years + 1) for month in range(1, 13)]
    return '"Month","Sales"\n' + "\n".join(rows) + "\n"


def test_year_month_dates_without_century_fit_monthly_and_forecast_the_next_month(tmp_path):
    data = tmp_path / "shampoo.csv"
    data.write_text(_shampoo())
    fitted = invoke(["fit", data, "--target", "Sales", "--out", tmp_path / "model", "--epochs", "1", "--hidden", "4",
                     "--window", "5", "--quiet"])
    assert fitted.exit_code == 0, fitted.stderr
    info = invoke(["info", "--model", tmp_path / "model", "--json"])
    assert '"frequency": "MS"' in info.stdout and '"last_timestamp": "2003-12-01T00:00:00"' in info.stdout
    forecast = invoke(["predict", "--model", tmp_path / "model"])
    assert forecast.stdout.splitlines()[1].startswith("2004-01-01,1,"), forecast.stdout


def test_time_col_none_takes_rows_in_file_order(tmp_path):
    data = tmp_path / "series.csv"
    data.write_text(series_csv())
    fitted = invoke([*fit_args(data, tmp_path / "model"), "--time-col", "none"])
    assert fitted.exit_code == 0, fitted.stderr
    forecast = invoke(["predict", "--model", tmp_path / "model"])
    assert forecast.stderr == (f"read {data}, the training data recorded in {tmp_path / 'model'}\n"
                               f"warning: {data}: the model was fitted without a time column; rows are taken in "
                               "file order.\n")
    assert forecast.stdout.splitlines()[1].startswith(",1,"), forecast.stdout


def test_time_col_none_says_so_at_fit(tmp_path):
    data = tmp_path / "series.csv"
    data.write_text(series_csv())
    fitted = invoke(["fit", data, "--target", "value", "--out", tmp_path / "model", "--epochs", "1", "--hidden", "4",
                     "--window", "5", "--time-col", "none"])
    assert fitted.exit_code == 0, fitted.stderr
    assert fitted.stderr.splitlines()[0] == f"warning: {data}: --time-col none: rows are taken in file order."


def test_a_blank_target_in_the_last_rows_is_not_the_forecast_origin(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text(series_csv())
    assert invoke(fit_args(data, tmp_path / "model")).exit_code == 0
    recent = tmp_path / "recent.csv"
    lines = series_csv().splitlines()
    recent.write_text("\n".join(lines[:-2] + [f"{line.split(',')[0]}," for line in lines[-2:]]) + "\n")
    forecast = invoke(["predict", recent, "--model", tmp_path / "model"])
    assert forecast.exit_code == 0, forecast.stderr
    assert forecast.stderr == (f"warning: {recent}: dropped 2 trailing row(s) whose target 'value' is blank; the data "
                               "ends at the last observed value, 2021-04-27 (line 59).\n")
    assert forecast.stdout.splitlines()[1].startswith("2021-04-28,1,"), forecast.stdout


def test_predict_csv_holds_the_same_numbers_as_json(fitted):
    import io
    import json

    import pandas as pd

    as_csv = invoke(["predict", "--model", fitted.model_dir, "--quiet"])
    as_json = invoke(["predict", "--model", fitted.model_dir, "--quiet", "--format", "json"])
    column = pd.read_csv(io.StringIO(as_csv.stdout))["sales"].tolist()
    assert column == [row["sales"] for row in json.loads(as_json.stdout)["forecast"]]
    assert "e+" not in as_csv.stdout and "e-" not in as_csv.stdout


def test_a_target_named_like_a_formula_is_written_quoted(tmp_path):
    data = tmp_path / "formula.csv"
    data.write_text(series_csv(header="date,=1+2"))
    assert invoke(["fit", data, "--target", "=1+2", "--out", tmp_path / "model", "--epochs", "1", "--hidden", "4",
                   "--window", "5", "--quiet"]).exit_code == 0
    forecast = invoke(["predict", "--model", tmp_path / "model"])
    assert forecast.stdout.splitlines()[0] == "timestamp,step,'=1+2"


def test_a_class_label_like_a_formula_is_written_quoted(tmp_path):
    data = tmp_path / "labels.csv"
    data.write_text(series_csv(header="date,value,label", value=lambda i: f"{i % 5},{'=up' if i % 4 < 2 else '@down'}"))
    fitted = invoke(["fit", data, "--task", "classify", "--target", "label", "--out", tmp_path / "model",
                     "--epochs", "1", "--hidden", "4", "--window", "5", "--quiet"])
    assert fitted.exit_code == 0, fitted.stderr
    lines = invoke(["predict", "--model", tmp_path / "model"]).stdout.splitlines()
    assert lines[0] == "timestamp,step,class,p_=up,p_@down" or lines[0] == "timestamp,step,class,p_@down,p_=up"
    assert lines[1].split(",")[2] in ("'=up", "'@down")
