"""What `forecast --help` costs: median wall time of fresh processes, and which heavy modules it loads.

Run: python bench/cli_startup.py   (prints figures; never part of the test suite)
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 7


def median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    forecast = shutil.which("forecast") or f"{sys.executable} -m forecast_cli"
    help_s = median_seconds([*forecast.split(), "--help"])
    python_s = median_seconds([sys.executable, "-c", "pass"])
    torch_s = median_seconds([sys.executable, "-c", "import torch"])
    loaded = subprocess.run([sys.executable, "-c", "import sys, forecast_cli.cli.app; "
                             "print(sorted(m for m in ('torch','pandas','matplotlib','numpy') if m in sys.modules))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    print(f"forecast --help     median {help_s:.3f} s over {RUNS} runs")
    print(f"python -c pass      median {python_s:.3f} s")
    print(f"python -c 'import torch' median {torch_s:.3f} s (what --help would cost with an eager import)")
    print(f"heavy modules loaded by importing forecast_cli.cli.app: {loaded}")


if __name__ == "__main__":
    main()
