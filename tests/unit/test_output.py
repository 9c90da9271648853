"""cli/output.py: forecasts keep every digit in CSV and JSON, and no CSV cell can run as a spreadsheet formula."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from forecast_cli.cli.output import csv_text, number_text, spreadsheet_safe, write_forecast

VALUES = [123456789.12345679, 1e8 + 0.5, 98765432109876.55, 0.1 + 0.2, -3.5, 125.0, 1e-6, 6.02e-5, 0.0]


@pytest.mark.parametrize("value", VALUES)
def test_ordinary_numbers_are_written_positional_and_read_back_exactly(value):
    text = number_text(value)
    assert "e" not in text and float(text) == value


@pytest.mark.parametrize("value, text", [(1e16, "1e+16"), (6.2e-299, "6.2e-299"), (-5.4246e301, "-5.4246e+301"),
                                         (9.99e-7, "9.99e-07"), (1.5e8, "150000000"), (-0.0, "0")])
def test_the_cut_off_between_positional_and_scientific(value, text):
    assert number_text(value) == text and float(text) == value


def _forecast() -> pd.DataFrame:
    return pd.DataFrame({"timestamp": ["2021-03-01", "2021-03-02"], "step": [1, 2],
                         "close": [3123456789.123457, 0.30000000000000004]})


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_forecast_file_holds_the_forecast_exactly(tmp_path, fmt):
    path = tmp_path / f"forecast.{fmt}"
    write_forecast(_forecast(), str(path), fmt)
    text = path.read_text()
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}  # pandas 2: the stats extra's
    read = (pd.read_csv(io.StringIO(text), **exact)["close"].tolist() if fmt == "csv"
            else [row["close"] for row in json.loads(text)["forecast"]])
    assert read == _forecast()["close"].tolist()
    assert "3123456789.123457" in text and "e+" not in text


def test_json_writes_null_for_a_value_that_is_not_finite(tmp_path):
    table = _forecast().assign(close=[np.nan, 1.5])
    write_forecast(table, str(tmp_path / "f.json"), "json")
    assert [row["close"] for row in json.loads((tmp_path / "f.json").read_text())["forecast"]] == [None, 1.5]


@pytest.mark.parametrize("text, safe", [("=SUM(A1:A9)", "'=SUM(A1:A9)"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
                                        ("-", "'-"), ("-3.5", "-3.5"), ("+4", "+4"), ("-1e5", "-1e5"),
                                        ("up", "up"), ("a=b", "a=b"), ("", "")])
def test_text_that_a_spreadsheet_would_run_is_quoted(text, safe):
    assert spreadsheet_safe(text) == safe


def test_every_text_cell_and_name_is_safe_and_numbers_are_not_touched():
    table = pd.DataFrame({"timestamp": ["2021-03-01"], "step": [1], "class": ["=HYPERLINK(\"http://x\")"],
                          "p_=HYPERLINK(\"http://x\")": [0.75], "p_up": [0.25], "-level": [-3.5]})
    rows = list(pd.read_csv(io.StringIO(csv_text(table)), dtype=str, keep_default_na=False).itertuples(index=False))
    assert pd.read_csv(io.StringIO(csv_text(table)), nrows=0).columns.tolist() == [
        "timestamp", "step", "class", "p_=HYPERLINK(\"http://x\")", "p_up", "'-level"]
    assert list(rows[0]) == ["2021-03-01", "1", "'=HYPERLINK(\"http://x\")", "0.75", "0.25", "-3.5"]
