"""Shared measuring tools: child processes with their own CPU time and peak RSS, medians, the table.

Timings on a shared 2-core machine drift with the neighbours' load, so every comparison is a ratio
of runs interleaved A B A B, and CPU seconds stand beside wall seconds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Cost:
    """One child process: wall and CPU seconds (user + sys), peak resident memory, exit status."""

    wall: float
    cpu: float
    rss_mb: float
    rc: int
    stdout: str = ""


def run_child(command: list[str], env: dict | None = None) -> Cost:
    """Run `command` to completion and measure that child alone.

    os.wait4 gives the rusage of this one child; RUSAGE_CHILDREN would give the largest peak RSS of
    every child reaped so far, which hides a smaller one run after a bigger one.
    """
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return Cost(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, out.read())


def python(*code_and_args: str) -> list[str]:
    return [sys.executable, "-c", *code_and_args]


def forecast(*args: str) -> list[str]:
    return [sys.executable, "-m", "forecast_cli", *args]


def interleaved(commands: dict[str, list[str]], runs: int, env: dict | None = None) -> dict[str, list[Cost]]:
    """Each command `runs` times, in turn (A B C A B C ...), so load changes hit all of them alike."""
    costs: dict[str, list[Cost]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            costs[name].append(run_child(command, env))
    return costs


def median(costs: list[Cost], attribute: str) -> float:
    return statistics.median(getattr(cost, attribute) for cost in costs)


@dataclass
class Row:
    """One line of the table: a figure, what it is compared with, their ratio and the target it meets."""

    section: str
    what: str
    figure: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    values: dict = field(default_factory=dict)  # the raw numbers, for --json


def verdict(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def markdown(rows: list[Row]) -> str:
    """The rows as one Markdown table (readable in a terminal, pasted as is into the README)."""
    lines = ["| section | what | figure | compared with | ratio | target | met |",
             "| --- | --- | --- | --- | ---: | --- | --- |"]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        lines.append(f"| {row.section} | {row.what} | {row.figure} | {row.reference} | {ratio} | {row.target} "
                     f"| {verdict(row.met)} |")
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict]:
    return [asdict(row) for row in rows]


def machine_note() -> str:
    """Date, CPUs, load, versions: what a reader needs to weigh the figures."""
    import platform

    import torch

    return (f"{time.strftime('%Y-%m-%d')}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
            f"python {platform.python_version()}, torch {torch.__version__}")
