"""A warm-start fit killed while publishing leaves the old model byte for byte (a real
process paused by fault_harness.py, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY_TARGET, run_cli, write_tiny_csv

pytestmark = pytest.mark.slow  # a fit in a real process, killed

HARNESS = Path(__file__).with_name("fault_harness.py")
FIT = ["--target", TINY_TARGET, "--window", "10", "--hidden", "4", "--epochs", "3", "--batch-size", "16",
       "--device", "cpu", "--quiet"]
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


@pytest.mark.parametrize("point, mark", [("staged", "staged")])  # mid-training: test_warm_start.py
def test_a_killed_warm_start_leaves_the_old_model_intact(tmp_path, point, mark):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    assert run_cli("fit", csv, *FIT, "--out", tmp_path / "model").exit_code == 0
    before = _files(tmp_path / "model")
    (tmp_path / "marks").mkdir()
    process = subprocess.Popen([sys.executable, str(HARNESS), point, str(tmp_path / "marks"), "fit", "tiny.csv",
                                *FIT, "--out", "model", "--warm-start"], cwd=tmp_path, env=CHILD_ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "marks" / mark).exists():
            assert process.poll() is None, process.stderr.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the warm start never reached the planted point"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert _files(tmp_path / "model") == before
    assert run_cli("predict", csv, "--model", tmp_path / "model").exit_code == 0
