"""A model folder copied or moved with its data reads the data beside it, not the original file by its
absolute path; the file a command reads unasked is always named on stderr (after reading it, so an
error stays one line)."""

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET, make_tiny_frame
from typer.testing import CliRunner

from forecast_cli.cli.app import app


def _invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """tmp/project/data.csv and tmp/project/forecast_model fitted on it (run from tmp/project)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    make_tiny_frame().to_csv("data.csv", index=False)
    fitted = _invoke("fit", "data.csv", "--target", TINY_TARGET, "--window", "10", "--horizon", TINY_HORIZON,
                     "--epochs", "2", "--hidden", "8", "--quiet")
    assert fitted.exit_code == 0, fitted.stderr
    return folder


def _manifest(model: Path) -> dict:
    return json.loads((model / "manifest.json").read_text())


def test_fit_records_the_data_path_both_absolute_and_from_the_model_directory(project):
    data = _manifest(project / "forecast_model")["data"]
    assert data["path"] == str(project / "data.csv")
    assert data["relative_path"] == "../data.csv"


def test_a_copied_project_reads_its_own_data_and_says_which_file(project, tmp_path, monkeypatch):
    copy = Path(shutil.copytree(project, tmp_path / "copy"))
    make_tiny_frame(125).to_csv(copy / "data.csv", index=False)  # the copy's data has 5 more days
    monkeypatch.chdir(tmp_path)
    result = _invoke("predict", "--model", "copy/forecast_model")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "read copy/data.csv, the training data recorded in copy/forecast_model\n"
    first = pd.read_csv(io.StringIO(result.stdout))["timestamp"].iloc[0]
    assert first == str((pd.Timestamp("2021-01-04") + pd.Timedelta(days=125)).date())


def test_without_the_relative_file_the_absolute_one_is_read_and_named(project, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere" / "forecast_model"
    shutil.copytree(project / "forecast_model", moved)  # the model alone; ../data.csv is not beside it
    monkeypatch.chdir(tmp_path)
    result = _invoke("predict", "--model", moved)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"read {project / 'data.csv'}, the training data recorded in {moved}\n"
    assert len(pd.read_csv(io.StringIO(result.stdout))) == TINY_HORIZON


def test_neither_file_left_names_both(project, tmp_path):
    moved = tmp_path / "elsewhere" / "forecast_model"
    shutil.copytree(project / "forecast_model", moved)
    (project / "data.csv").unlink()
    result = _invoke("predict", "--model", moved)
    assert result.exit_code == 2
    assert result.stderr == (f"error: the training file recorded in the model, {project / 'data.csv'}, no longer "
                             f"exists (nor is {tmp_path / 'elsewhere' / 'data.csv'}); pass DATA.\n")


def test_a_command_given_data_does_not_name_the_recorded_file(project):
    result = _invoke("predict", "data.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_evaluate_on_a_copied_project_titles_the_report_with_the_file_read(project, tmp_path, monkeypatch):
    shutil.copytree(project, tmp_path / "copy")
    monkeypatch.chdir(tmp_path)
    result = _invoke("evaluate", "--model", "copy/forecast_model", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Backtest on copy/data.csv\n")


def test_relative_data_path_rule(tmp_path):
    from forecast_cli.loaded import relative_data_path

    model = tmp_path / "project" / "forecast_model"
    assert relative_data_path(str(tmp_path / "project" / "data.csv"), model) == "../data.csv"
    assert relative_data_path(str(tmp_path / "project" / "raw" / "d.csv"), model) == "../raw/d.csv"
    assert relative_data_path(str(tmp_path / "other" / "d.csv"), model) is None  # not below the model's parent
    assert relative_data_path(None, model) is None
