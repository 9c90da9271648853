"""What reading costs: generated CSVs of N rows x 8 columns (a timestamp + 7 numbers) through
`forecast fit --epochs 1` (a tiny model, so reading dominates), `forecast predict` and `forecast
evaluate`, each beside `pandas.read_csv` of the same file: CPU seconds and peak RSS of each child.

Also fit's own read -> tensors step alone (`preparing.prepare`), the fair match for read_csv, and the
slope of each cost in rows (least squares over the sizes): the slopes leave out start-up (imports),
so fit's slope / read_csv's slope is what reading a row costs against pandas.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.measure import Cost, Row, forecast, interleaved, median, python, run_child

COLUMNS = ("close", "open", "volume", "rate", "temp", "load", "noise")
TINY = ("--epochs", "1", "--hidden", "8", "--window", "24", "--batch-size", "4096")
READ_CSV = "import sys, pandas; pandas.read_csv(sys.argv[1])"
# fit's read as `forecast fit` runs it: its allocator setting first (cli/memory.py; absent in older trees)
PREPARE = ("import sys\ntry:\n    from forecast_cli.cli.memory import keep_freed_memory\n    keep_freed_memory()\n"
           "    from forecast_cli.cli.memory import small_pages_for_numpy\n    small_pages_for_numpy()\n"
           "except ImportError:\n    pass\nfrom forecast_cli.config import DataConfig, ModelConfig, TrainConfig\n"
           "from forecast_cli.preparing import prepare\nfrom forecast_cli.store.manifest import Configs\n"
           "prepare(sys.argv[1], Configs(DataConfig(target='close', window=24), ModelConfig(hidden_size=8), "
           "TrainConfig()), lambda message: None)")


def generated_csv(rows: int, cache: Path) -> Path:
    """A seeded CSV with minute timestamps, random walks and noise; written once, then reused. Written by a
    child process: a child forked from a parent that grew by gigabytes inherits that peak RSS (Linux
    counts the pages shared at fork in the child's maximum), so every later child's peak would read high."""
    path = cache / f"rows_{rows}.csv"
    if not path.exists():
        code = "import sys; from pathlib import Path; from bench.reading import write_csv; write_csv(int(sys.argv[1]), Path(sys.argv[2]))"
        cost = run_child(python(code, str(rows), str(path)), {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
        if cost.rc:
            raise RuntimeError(f"writing {path} failed (exit {cost.rc})")
    return path


def write_csv(rows: int, path: Path) -> None:
    """The generated CSV itself (see generated_csv), written atomically."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rows)
    walks = np.cumsum(rng.normal(size=(rows, 4)), axis=0) + 1000.0
    noise = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(np.hstack([walks, noise]), columns=list(COLUMNS))
    frame.insert(0, "timestamp", pd.date_range("2015-01-01", periods=rows, freq="min").strftime("%Y-%m-%d %H:%M"))
    partial = path.with_suffix(".partial")
    frame.to_csv(partial, index=False, float_format="%.4f")
    partial.rename(path)


def costs_at(path: Path, scratch: Path, trees: dict[str, dict | None], repeats: int = 3) -> dict[str, dict[str, Cost]]:
    """Per tree (label -> children's env: a PYTHONPATH puts another checkout first), the cost of each
    command on `path`. fit runs first, once per tree (its model is what predict and evaluate load); then
    the commands a target compares, read_csv with prepare and both predicts, run `repeats` rounds
    (read_csv, then each in every tree) and keep the medians: one run's system time swings by a second
    here (page faults on a virtual machine), enough to put a ratio either side of its line; evaluate last.
    """
    def model(label: str) -> str:
        return str(scratch / f"model_{path.stem}{label.strip(' ()')}")

    first = {"fit --epochs 1": lambda label: forecast("fit", str(path), "--target", "close", *TINY, "--out",
                                                      model(label), "--quiet")}
    paired = {"prepare (fit's read -> tensors)": lambda label: python(PREPARE, str(path)),
              "predict": lambda label: forecast("predict", "--model", model(label)),
              "predict --engine torch": lambda label: forecast("predict", "--model", model(label), "--engine", "torch")}
    last = {"evaluate": lambda label: forecast("evaluate", "--model", model(label), "--json")}
    runs: dict[str, dict[str, list[Cost]]] = {label: {} for label in trees}
    for name, command in first.items():
        for label, env in trees.items():
            runs[label][name] = [_run_and_say(path, label, name, command(label), env)]
    for _ in range(max(1, repeats)):
        read_csv = _run_and_say(path, "", "read_csv", python(READ_CSV, str(path)), None)
        for label in trees:
            runs[label].setdefault("read_csv", []).append(read_csv)
        for name, command in paired.items():
            for label, env in trees.items():
                runs[label].setdefault(name, []).append(_run_and_say(path, label, name, command(label), env))
    for name, command in last.items():
        for label, env in trees.items():
            runs[label][name] = [_run_and_say(path, label, name, command(label), env)]
    return {label: {name: median_cost(costs) for name, costs in by_name.items()} for label, by_name in runs.items()}


def _run_and_say(path: Path, label: str, name: str, command: list[str], env: dict | None) -> Cost:
    cost = run_child(command, env)
    print(f"{path.name}{label}: {name}: {cost.wall:.1f} s wall, {cost.cpu:.1f} CPU-s, {cost.rss_mb:.0f} MB, "
          f"exit {cost.rc}", file=sys.stderr, flush=True)  # progress: a stopped run still told something
    return cost


def median_cost(costs: list[Cost]) -> Cost:
    """Each figure's median over the runs (the largest exit status: one failure shows)."""
    return Cost(median(costs, "wall"), median(costs, "cpu"), median(costs, "rss_mb"), max(cost.rc for cost in costs))


def slope(rows: list[int], values: list[float]) -> float:
    """Least-squares cost per million rows."""
    return float(np.polyfit(np.array(rows) / 1e6, values, 1)[0])


def measure(sizes: list[int], cache: Path, baseline: Path | None = None, repeats: int = 3) -> list[Row]:
    """The table rows; with `baseline` (another checkout's root), every command is run on that tree too,
    in turn with this one, and its rows are marked "before". `repeats`: rounds of read_csv and prepare."""
    torch_cpu = median(interleaved({"torch": python("import torch")}, 3)["torch"], "cpu")
    trees = {"": None}
    if baseline is not None:
        trees[" (before)"] = {**os.environ, "PYTHONPATH": str(Path(baseline).resolve())}
    results: dict[str, dict[int, dict[str, Cost]]] = {label: {} for label in trees}
    with tempfile.TemporaryDirectory() as scratch:
        for rows in sizes:
            for label, costs in costs_at(generated_csv(rows, cache), Path(scratch), trees, repeats).items():
                results[label][rows] = costs
    out = []
    for label in trees:
        for rows, costs in results[label].items():
            base = costs["read_csv"]
            medians = f" (medians of {repeats} runs)" if repeats > 1 else ""
            out.append(_row(rows, "pandas.read_csv" + medians + label, base, None, "", None))
            for name, cost in costs.items():
                if name == "read_csv":
                    continue
                target, met = _target(name, rows, cost, base, torch_cpu) if not label else ("", None)
                shown = name + (medians if name.startswith(("prepare", "predict")) else "")
                out.append(_row(rows, shown + label, cost, base, target, met))
        if len(sizes) > 1:
            out.extend(_slopes(results[label], sizes, label))
    return out


def _target(name: str, rows: int, cost: Cost, base: Cost, torch_cpu: float) -> tuple[str, bool | None]:
    """The issue's targets: full reads vs read_csv; at 3M rows fit's peak RSS and predict's cost."""
    if name.startswith("prepare"):
        return "<= 2x read_csv CPU, <= 1.3x RSS", cost.cpu <= 2 * base.cpu and cost.rss_mb <= 1.3 * base.rss_mb
    if rows == 3_000_000 and name.startswith("fit"):
        return "peak RSS <= 1.5 GB at 3M", cost.rss_mb <= 1536
    if rows == 3_000_000 and name.startswith("predict"):
        return (f"<= 400 MB, <= import torch + 1.0 s ({torch_cpu + 1:.2f} CPU-s)",
                cost.rss_mb <= 400 and cost.cpu <= torch_cpu + 1.0)
    return "", None


def _row(rows: int, name: str, cost: Cost, base: Cost | None, target: str, met: bool | None) -> Row:
    failed = f" (exit {cost.rc})" if cost.rc else ""
    figure = f"{cost.wall:.1f} s wall, {cost.cpu:.1f} CPU-s, {cost.rss_mb:,.0f} MB peak{failed}"
    reference = "" if base is None else f"read_csv: {base.rss_mb / 1:,.0f} MB; RSS ratio {cost.rss_mb / base.rss_mb:.2f}"
    return Row("read", f"{rows / 1e6:g}M rows: {name}", figure, reference,
               None if base is None else cost.cpu / base.cpu, target, met,
               {"rows": rows, "wall": cost.wall, "cpu": cost.cpu, "rss_mb": cost.rss_mb, "rc": cost.rc})


def _slopes(results: dict[int, dict[str, Cost]], sizes: list[int], label: str = "") -> list[Row]:
    """CPU-s and MB per million rows of each command; the ratio is against read_csv's slope. With
    three or more sizes, how far the middle size lies from the straight line says if it is linear."""
    names = list(next(iter(results.values())))
    cpu = {name: slope(sizes, [results[rows][name].cpu for rows in sizes]) for name in names}
    rss = {name: slope(sizes, [results[rows][name].rss_mb for rows in sizes]) for name in names}
    rows_out = []
    for name in names:
        line = ""
        if len(sizes) >= 3:
            ends = sizes[0], sizes[-1]
            ys = [results[rows][name].cpu for rows in ends]
            middle = sizes[len(sizes) // 2]
            expected = np.interp(middle, ends, ys)
            line = f"; at {middle / 1e6:g}M {100 * (results[middle][name].cpu / expected - 1):+.0f}% off the line"
        rows_out.append(Row("read", f"slope: {name}{label}", f"{cpu[name]:.2f} CPU-s and {rss[name]:,.0f} MB per M rows{line}",
                            "read_csv's slope (CPU)", cpu[name] / cpu["read_csv"] if cpu["read_csv"] > 0 else None,
                            "linear in rows" if line else "", None,
                            {"cpu_per_m_rows": cpu[name], "mb_per_m_rows": rss[name]}))
    return rows_out
