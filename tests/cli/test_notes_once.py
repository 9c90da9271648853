"""Notes about the data are said once, at fit, naming the file; later commands re-reading the training
file say only what is new in it. Gaps in a regular time grid get one warning with a count."""

import io

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET, make_tiny_frame
from typer.testing import CliRunner

from forecast_cli.cli.app import app


def _invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def _fit(csv, *extra):
    return _invoke("fit", csv, "--target", TINY_TARGET, "--window", "10", "--horizon", TINY_HORIZON, "--epochs", "2",
                   "--hidden", "8", "--quiet", *extra)


def _warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


@pytest.fixture
def shuffled_model(tmp_path, monkeypatch):
    """A model fitted on data.csv whose rows are out of order and whose first row has a blank."""
    monkeypatch.chdir(tmp_path)
    frame = make_tiny_frame()
    pd.concat([frame.iloc[:60], frame.iloc[70:], frame.iloc[60:70]]).to_csv("data.csv", index=False)
    fitted = _invoke("fit", "data.csv", "--target", TINY_TARGET, "--window", "10", "--horizon", TINY_HORIZON,
                     "--epochs", "2", "--hidden", "8")
    assert fitted.exit_code == 0, fitted.stderr
    return fitted


def test_fit_says_each_note_once_naming_the_file(shuffled_model):
    assert _warnings(shuffled_model) == ["warning: data.csv: rows were not in time order; sorted by date.",
                                         "warning: data.csv: dropped 1 leading row(s) with missing values."]


@pytest.mark.parametrize("command", [["predict"], ["evaluate", "--json"], ["predict", "data.csv"]])
def test_later_commands_on_the_training_file_do_not_repeat_its_notes(shuffled_model, command):
    result = _invoke(*command)
    assert result.exit_code == 0, result.stderr
    assert _warnings(result) == []


def test_later_commands_say_what_is_new_in_the_data(shuffled_model):
    appended = make_tiny_frame(125).iloc[120:].copy()
    appended.loc[appended.index[2], "temp"] = np.nan  # a new interior blank: filled, and said
    appended.to_csv("data.csv", mode="a", header=False, index=False)
    result = _invoke("predict")
    assert result.exit_code == 0, result.stderr
    assert _warnings(result) == ["warning: data.csv: filled 1 missing value(s) by interpolation in time."]
    assert len(pd.read_csv(io.StringIO(result.stdout))) == TINY_HORIZON


def test_another_file_with_the_same_problem_is_told(shuffled_model, tmp_path):
    frame = make_tiny_frame()
    pd.concat([frame.iloc[:60], frame.iloc[70:], frame.iloc[60:70]]).to_csv("other.csv", index=False)
    with open("other.csv", "a") as handle:
        handle.write("\n")  # other bytes than data.csv, same rows
    result = _invoke("predict", "other.csv")
    assert _warnings(result) == ["warning: other.csv: rows were not in time order; sorted by date.",
                                 "warning: other.csv: dropped 1 leading row(s) with missing values."]


def test_a_daily_series_with_missing_days_gets_one_warning_with_the_count(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tiny_frame().drop(index=[30, 31, 55]).to_csv("gaps.csv", index=False)
    fitted = _fit("gaps.csv", "--quiet")
    assert fitted.exit_code == 0 and fitted.stderr == ""
    loud = _invoke("fit", "gaps.csv", "--target", TINY_TARGET, "--window", "10", "--horizon", TINY_HORIZON,
                   "--epochs", "1", "--hidden", "8")
    assert loud.exit_code == 0, loud.stderr
    assert ("warning: gaps.csv: 3 timestamp(s) missing from the daily (D) time grid (first 2021-02-03); "
            "rows are taken as consecutive steps.") in _warnings(loud)
    assert sum("missing from the" in line for line in loud.stderr.splitlines()) == 1
    later = _invoke("predict")
    assert later.exit_code == 0 and "missing from the" not in later.stderr
