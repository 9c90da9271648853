"""`torchrun --nproc-per-node 2 -m forecast_cli fit`: two CPU processes (gloo) train one model under
DistributedDataParallel, rank 0 alone writes it, and its forecasts match one process's with the
same seed and effective batch (each global batch of --batch-size origins is dealt out across the
ranks, and DDP averages the gradients, so only the order of floating-point sums differs)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import make_long_frame as long_frame

pytestmark = pytest.mark.slow  # starts three Python processes that import torch
TOLERANCE = 1e-5  # relative, on forecasts in original units
FIT = ["fit", "long.csv", "--target", "sales", "--id-col", "store", "--epochs", "3", "--hidden", "8", "--window", "7",
       "--batch-size", "32", "--quiet"]


def _run(folder, *command: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(list(command), cwd=folder, capture_output=True, text=True, timeout=300, env=environment)


def test_two_processes_write_one_model_that_forecasts_like_one_process(tmp_path):
    long_frame().to_csv(tmp_path / "long.csv", index=False, date_format="%Y-%m-%d")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                "-m", "forecast_cli"]
    two = _run(tmp_path, *launcher, *FIT, "--model", "two")
    assert two.returncode == 0, two.stderr[-2000:]
    one = _run(tmp_path, sys.executable, "-m", "forecast_cli", *FIT, "--model", "one")
    assert one.returncode == 0, one.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["one", "two"]  # no staged or second copy
    forecasts = [pd.read_csv(io.StringIO(_run(tmp_path, sys.executable, "-m", "forecast_cli", "predict",
                                              "--model", name).stdout)) for name in ("one", "two")]
    assert forecasts[0][["store", "timestamp", "step"]].equals(forecasts[1][["store", "timestamp", "step"]])
    np.testing.assert_allclose(forecasts[1]["sales"], forecasts[0]["sales"], rtol=TOLERANCE)
