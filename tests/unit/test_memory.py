"""cli/memory.py: the command-line process keeps freed memory for reuse (glibc) and gives NumPy 4 KiB pages; the library changes neither."""

import os
import platform
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's; elsewhere keep_freed_memory does nothing")
def test_the_allocator_setting_takes_effect_on_glibc_and_arrays_still_work():
    code = ("from forecast_cli.cli.memory import keep_freed_memory; import numpy as np\n"
            "took = keep_freed_memory()\n"
            "blocks = [np.ones(4_000_000) for _ in range(3)]; del blocks\n"  # large arrays still allocate and free
            "print(took, float(np.ones(4_000_000).sum()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "4000000.0"]


def test_the_library_alone_leaves_the_host_process_allocator_alone():
    code = ("import sys, forecast_cli, forecast_cli.preparing\n"
            "print('forecast_cli.cli.memory' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


@pytest.mark.parametrize("given, expected", [(None, "False"), ("1", "True")])
def test_the_cli_asks_numpy_for_small_pages_unless_the_environment_says_otherwise(given, expected):
    code = ("from forecast_cli.cli.memory import small_pages_for_numpy; small_pages_for_numpy()\n"
            "import numpy; from numpy._core import multiarray\n"
            "print(multiarray._get_madvise_hugepage())")
    env = {key: value for key, value in os.environ.items() if key != "NUMPY_MADVISE_HUGEPAGE"}
    if given is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = given
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == expected


def test_the_forecast_command_runs_with_numpy_on_small_pages():
    code = ("import os, sys; sys.argv = ['forecast', '--version']\n"
            "from forecast_cli.cli import app\n"
            "try:\n    app.main()\nexcept SystemExit:\n    pass\n"
            "print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'))")
    env = {key: value for key, value in os.environ.items() if key != "NUMPY_MADVISE_HUGEPAGE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split()[-1] == "0"
