"""SIGTERM and SIGINT stop every command promptly with exit 130, at any stage, in real processes: `fit`
while it reads the data or after training (before the save) leaves `--out` as it was and no checkpoint;
predict, evaluate and plot stop while reading too. The pause comes from fault_harness.py."""

from __future__ import annotations

import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast_cli.cli.app import app

HARNESS = Path(__file__).with_name("fault_harness.py")
FIT = ["--target", "value", "--epochs", "2", "--hidden", "4", "--window", "6", "--quiet"]
START_TIMEOUT = 120.0  # start-up (imports) on a busy machine, until the planted pause is reached
STOP_TIMEOUT = 20.0  # the pause lasts fault_harness.PAUSE (60 s): a command that ignores the signal outlives this


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A series and a model fitted on it, copied into each test's folder."""
    folder = tmp_path_factory.mktemp("signals")
    rows = [f"2023-01-{1 + i // 24:02d} {i % 24:02d}:00,{10 + math.sin(i / 6):.4f}" for i in range(120)]
    (folder / "series.csv").write_text("time,value\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["fit", str(folder / "series.csv"), "--out", str(folder / "model"), *FIT])
    assert result.exit_code == 0, result.stderr
    return folder


def stopped(folder: Path, point: str, signum: int, args: list[str]) -> tuple[int, str]:
    """Start `forecast ARGS` paused at `point`, send `signum` once it gets there; exit code and stderr."""
    (folder / "marks").mkdir()
    with open(folder / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen([sys.executable, str(HARNESS), point, str(folder / "marks"), *args], cwd=folder,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            started = time.monotonic()
            while not (folder / "marks" / point).exists():
                assert process.poll() is None, (folder / "stderr.txt").read_text()
                assert time.monotonic() - started < START_TIMEOUT, f"never reached {point!r}"
                time.sleep(0.01)
            process.send_signal(signum)
            try:
                code = process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {STOP_TIMEOUT:.0f}s after {signal.Signals(signum).name} at {point!r}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return code, (folder / "stderr.txt").read_text()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("point, stage", [("read", "while reading and preparing the data"),
                                          ("describe", "after training, before the model was saved")],
                         ids=["read", "describe"])
def test_fit_stopped_outside_training_exits_130_leaving_out_unchanged(previous, tmp_path, point, stage, signum):
    shutil.copy(previous / "series.csv", tmp_path / "series.csv")
    shutil.copytree(previous / "model", tmp_path / "model")
    before = files_of(tmp_path / "model")
    code, stderr = stopped(tmp_path, point, signum, ["fit", "series.csv", "--out", "model", *FIT])
    assert code == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"interrupted: stopped {stage}; model is unchanged.", stderr
    assert "Traceback" not in stderr
    assert files_of(tmp_path / "model") == before
    assert not (tmp_path / "model.checkpoint").exists()
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_fit_stopped_while_reading_writes_no_model(previous, tmp_path):
    shutil.copy(previous / "series.csv", tmp_path / "series.csv")
    code, stderr = stopped(tmp_path, "read", signal.SIGTERM, ["fit", "series.csv", "--out", "model", *FIT])
    assert code == 130, stderr
    assert "model is unchanged" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marks", "series.csv", "stderr.txt"]


@pytest.mark.parametrize("command, signum", [(["predict"], signal.SIGTERM), (["predict"], signal.SIGINT),
                                             (["evaluate"], signal.SIGTERM), (["plot", "--out", "plot.png"], signal.SIGTERM)],
                         ids=["predict-SIGTERM", "predict-SIGINT", "evaluate-SIGTERM", "plot-SIGTERM"])
def test_predict_evaluate_and_plot_stopped_while_reading_exit_130(previous, tmp_path, command, signum):
    shutil.copy(previous / "series.csv", tmp_path / "series.csv")
    code, stderr = stopped(tmp_path, "read", signum, [command[0], "series.csv", "--model",
                                                      str(previous / "model"), *command[1:]])
    assert code == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted.", stderr
    assert not (tmp_path / "plot.png").exists()
