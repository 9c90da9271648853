"""cli/memory.py: the command-line process keeps freed memory for reuse (glibc); elsewhere nothing changes."""

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
