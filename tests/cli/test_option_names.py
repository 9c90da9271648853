"""One name per thing across commands: --model/-m is the model directory everywhere (fit's --out too),
-o an output file, --format where a command prints data (--json kept as its synonym), shell completion."""

import inspect
import io
import json
import re

import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET
from typer.main import get_command
from typer.testing import CliRunner

import forecast_cli
from forecast_cli.cli.app import app

TRAINING = ["--target", TINY_TARGET, "--window", "10", "--horizon", str(TINY_HORIZON), "--epochs", "1",
            "--hidden", "8"]


def _invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.mark.parametrize("option", ["--out", "--model", "-m"])
def test_fit_takes_the_model_directory_as_out_model_or_m(tiny_csv, tmp_path, option):
    result = _invoke("fit", tiny_csv, *TRAINING, option, tmp_path / "dir", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "dir" / "manifest.json").is_file()


def test_fit_minus_o_still_names_the_model_directory_with_one_warning(tiny_csv, tmp_path):
    result = _invoke("fit", tiny_csv, *TRAINING, "-o", tmp_path / "dir")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (f"warning: fit -o is the old spelling of --model (-m); -o now names an "
                                             f"output file. Use -m {tmp_path / 'dir'}.")
    assert (tmp_path / "dir" / "manifest.json").is_file()
    assert not re.search(r"(?<![\w-])-o\b", _invoke("fit", "--help").stdout)  # not offered any more


def test_fit_minus_o_and_model_naming_two_directories_is_refused(tiny_csv, tmp_path):
    result = _invoke("fit", tiny_csv, *TRAINING, "-o", tmp_path / "a", "-m", tmp_path / "b")
    assert result.exit_code == 2
    assert result.stderr == (f"error: -o {tmp_path / 'a'} and --model {tmp_path / 'b'} both name the model "
                             "directory; give --model alone.\n")


@pytest.mark.parametrize("fmt, name", [("json", "report.json"), ("markdown", "report.md")])
def test_fit_format_prints_the_test_report_as_the_model_directory_holds_it(tiny_csv, tmp_path, fmt, name):
    result = _invoke("fit", tiny_csv, *TRAINING, "-m", tmp_path / "m", "--format", fmt, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (tmp_path / "m" / name).read_text()
    if fmt == "json":
        assert set(json.loads(result.stdout)) >= {"metrics", "baselines", "windows"}


def test_fit_format_outside_its_choices_is_refused_before_training(tiny_csv, tmp_path):
    result = _invoke("fit", tiny_csv, *TRAINING, "-m", tmp_path / "m", "--format", "csv")
    assert result.exit_code == 2
    assert result.stderr == "error: --format must be json or markdown, not 'csv'.\n"
    assert not (tmp_path / "m").exists()


def _predict(fitted, *extra):
    return _invoke("predict", fitted.csv, "--model", fitted.model_dir, "--quiet", *extra)


def test_predict_output_json_writes_json_by_its_extension(fitted, tmp_path):
    assert _predict(fitted, "-o", tmp_path / "f.json").exit_code == 0
    payload = json.loads((tmp_path / "f.json").read_text())
    assert payload["target"] == TINY_TARGET and len(payload["forecast"]) == TINY_HORIZON


def test_predict_format_beats_the_extension(fitted, tmp_path):
    assert _predict(fitted, "--output", tmp_path / "f.json", "--format", "csv").exit_code == 0
    frame = pd.read_csv(tmp_path / "f.json")
    assert list(frame.columns) == ["timestamp", "step", TINY_TARGET]


def test_predict_markdown_is_a_table_of_the_csv_cells(fitted):
    csv_lines = _predict(fitted).stdout.splitlines()
    lines = _predict(fitted, "--format", "markdown").stdout.splitlines()
    assert lines[0] == f"| timestamp | step | {TINY_TARGET} |" and lines[1] == "|---|---|---|"
    assert lines[2:] == ["| " + " | ".join(row.split(",")) + " |" for row in csv_lines[1:]]


def test_predict_format_outside_its_choices_is_refused(fitted):
    result = _predict(fitted, "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == "error: --format must be csv, json or markdown, not 'xml'.\n"


def _evaluate(fitted, *extra):
    return _invoke("evaluate", "--model", fitted.model_dir, "--quiet", *extra)


def test_evaluate_format_json_is_json(fitted):
    assert json.loads(_evaluate(fitted, "--format", "json").stdout) == json.loads(_evaluate(fitted, "--json").stdout)


def test_evaluate_format_csv_has_a_row_per_forecaster(fitted, tmp_path):
    frame = pd.read_csv(io.StringIO(_evaluate(fitted, "--format", "csv", "-o", tmp_path / "r.csv").stdout))
    assert list(frame["forecaster"]) == ["model", "naive", "seasonal_naive", "linear"]
    expected = json.loads(_evaluate(fitted, "--json").stdout)["metrics"]
    assert frame.iloc[0][list(expected)].to_dict() == pytest.approx(expected, rel=1e-12)
    assert pd.read_csv(tmp_path / "r.csv").equals(frame)


def test_evaluate_json_and_another_format_is_refused(fitted):
    result = _evaluate(fitted, "--json", "--format", "csv")
    assert result.exit_code == 2
    assert result.stderr == "error: --json and --format csv ask for two formats; give one.\n"


def test_info_format_json_is_json(fitted):
    as_json = _invoke("info", "--model", fitted.model_dir, "--json").stdout
    assert json.loads(_invoke("info", "--model", fitted.model_dir, "--format", "json").stdout) == json.loads(as_json)


def test_minus_o_is_an_output_file_wherever_it_is_offered():
    for command in ("predict", "evaluate", "plot"):
        options = {opt: param for param in get_command(app).commands[command].params for opt in param.opts}
        assert "-o" in options and options["-o"].metavar == ("FILE|-" if command == "predict" else "FILE")
    fit_options = {opt for param in get_command(app).commands["fit"].params if not param.hidden for opt in param.opts}
    assert "-o" not in fit_options and {"--out", "--model", "-m"} <= fit_options


def test_shell_completion_is_offered():
    flat = " ".join(_invoke("--help").stdout.split())
    assert "--install-completion" in flat and "--show-completion" in flat


def test_every_fit_option_is_an_api_fit_keyword_with_the_same_default():
    """fit's options reach forecast_cli.fit by name; the output-only ones (--format, --quiet) stay in the CLI.
    `out` differs on purpose: the CLI writes ./forecast_model, the API keeps the model in memory."""
    keywords = inspect.signature(forecast_cli.fit).parameters
    for param in get_command(app).commands["fit"].params:
        if param.name in ("data", "quiet", "fmt", "old_out", "out"):
            continue
        assert param.name in keywords, param.name
        assert keywords[param.name].kind is inspect.Parameter.KEYWORD_ONLY or param.name == "target", param.name
        default = keywords[param.name].default
        assert str(param.default) == str(default) or (param.default is False and default is False), param.name
