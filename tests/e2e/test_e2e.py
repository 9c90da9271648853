"""The installed `forecast` executable through real subprocesses, on a tiny CSV: fit, predict, evaluate, plot, info."""

import io
import json
import signal
import struct
import subprocess

import pandas as pd
import pytest
from conftest import TINY_HORIZON, TINY_TARGET, forecast_executable, write_tiny_csv

pytestmark = pytest.mark.slow  # every test runs the installed `forecast` in a subprocess

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(workdir, *args: str) -> subprocess.CompletedProcess:
    executable = forecast_executable()
    assert executable.is_file(), f"{executable} is missing: install the project (pip install -e '.[test]')"
    return subprocess.run([str(executable), *args], cwd=workdir, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder holding data.csv and ./forecast_model fitted by `forecast fit` with 2 epochs."""
    folder = tmp_path_factory.mktemp("e2e")
    write_tiny_csv(folder / "data.csv")
    fitted = run(folder, "fit", "data.csv", "--target", TINY_TARGET, "--window", "10",
                 "--horizon", str(TINY_HORIZON), "--epochs", "2", "--hidden", "8")
    assert fitted.returncode == 0, fitted.stderr
    folder.joinpath("fit.stdout").write_text(fitted.stdout)
    folder.joinpath("fit.stderr").write_text(fitted.stderr)
    return folder


def test_fit_writes_nothing_to_stdout(workdir):
    assert workdir.joinpath("fit.stdout").read_text() == ""
    stderr = workdir.joinpath("fit.stderr").read_text()
    assert "model written to forecast_model" in stderr
    assert (workdir / "forecast_model" / "manifest.json").is_file()


def test_predict_gives_horizon_rows_with_increasing_future_timestamps(workdir):
    result = run(workdir, "predict")
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(io.StringIO(result.stdout))
    assert list(forecast.columns) == ["timestamp", "step", TINY_TARGET] and len(forecast) == TINY_HORIZON
    stamps = pd.to_datetime(forecast["timestamp"])
    last = pd.Timestamp(pd.read_csv(workdir / "data.csv")["date"].iloc[-1])
    assert stamps.iloc[0] > last
    assert stamps.is_monotonic_increasing and stamps.is_unique
    # the file read unasked, named; fit already said the data's one note; no Python warnings leak through
    assert result.stderr.splitlines() == ["read data.csv, the training data recorded in forecast_model"]


def test_evaluate_json_has_the_documented_keys(workdir):
    result = run(workdir, "evaluate", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"metrics", "per_step", "baselines", "horizon", "windows", "excluded_zero_targets"}
    assert set(payload["metrics"]) == {"mape", "smape", "mae", "rmse", "mase"}
    assert len(payload["per_step"]) == payload["horizon"] == TINY_HORIZON
    assert "naive" in payload["baselines"]


def test_plot_writes_a_valid_png(workdir):
    result = run(workdir, "plot", "--out", "forecast.png")
    assert result.returncode == 0, result.stderr
    png = (workdir / "forecast.png").read_bytes()
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 400 and height >= 300
    assert len(png) > 10_000  # two panels of lines, not an empty canvas
    assert result.stdout == ""


def test_info_runs(workdir):
    result = run(workdir, "info")
    assert result.returncode == 0, result.stderr
    assert TINY_TARGET in result.stdout


def test_missing_model_is_one_line_and_exit_2(tmp_path):
    result = run(tmp_path, "predict", "data.csv", "--model", "nowhere")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: nowhere: no model directory here; run `forecast fit` first or pass --model.\n"


@pytest.mark.parametrize("command", [["predict"], ["evaluate", "--json"]])
def test_a_reader_that_stops_early_is_not_an_error(workdir, command):
    """`forecast predict | head -1`: the pipe closes before the data is written; exit 0, nothing on stderr."""
    process = subprocess.Popen([str(forecast_executable()), *command], cwd=workdir, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # long before the command has imported torch and has data to write
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert "Error" not in stderr and "internal error" not in stderr


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_fit_exits_130_and_leaves_no_model(tmp_path, signal_number):
    write_tiny_csv(tmp_path / "data.csv")
    process = subprocess.Popen(
        [str(forecast_executable()), "fit", "data.csv", "--target", TINY_TARGET, "--window", "10",
         "--epochs", "100000", "--patience", "100000", "--hidden", "8"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_line = process.stderr.readline()  # the leading-blank warning: the data is read, training starts
    assert first_line.startswith("warning: data.csv: dropped 1 leading row"), first_line
    process.send_signal(signal_number)
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == 130
    assert rest.splitlines()[-1].startswith("interrupted"), rest
    assert stdout == ""
    assert not (tmp_path / "forecast_model").exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    # The lock file stays by design once taken (a signal while the data is still being prepared comes
    # before it); a checkpoint is there when the signal came during training.
    assert set(left) - {"forecast_model.checkpoint", ".forecast_model.lock"} == {"data.csv"}, left


def test_binary_data_on_stdin_is_refused_from_its_first_bytes(workdir):
    """`fit - < /dev/zero` never ends if stdin is read whole; the child's memory is capped so that shows as a failure."""
    import resource

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    with open("/dev/zero", "rb") as zeros:
        result = subprocess.run([str(forecast_executable()), "fit", "-", "--target", TINY_TARGET, "--out", "never"],
                                cwd=workdir, stdin=zeros, capture_output=True, text=True, timeout=120,
                                preexec_fn=cap_memory)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "error: <stdin>: looks like a binary file, not a CSV text file; export the data " \
                                    "as CSV (comma, semicolon, tab or | separated)."
    assert not (workdir / "never").exists()


def test_backtest_prints_json_and_writes_nothing(workdir):
    before = sorted(p.name for p in workdir.iterdir())
    result = run(workdir, "backtest", "data.csv", "--target", TINY_TARGET, "--window", "10", "--folds", "2",
                 "--epochs", "1", "--hidden", "4", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["folds"] == 2 and len(payload["per_fold"]) == 2 and "aggregate" in payload
    assert sorted(p.name for p in workdir.iterdir()) == before


def test_a_bare_warm_start_at_the_end_of_the_line_starts_from_out(workdir):
    result = run(workdir, "fit", "data.csv", "--target", TINY_TARGET, "--window", "10", "--horizon", str(TINY_HORIZON),
                 "--epochs", "1", "--hidden", "8", "--out", "forecast_model", "--warm-start")
    assert result.returncode == 0, result.stderr
    assert "warm start from forecast_model: test mase" in result.stderr
