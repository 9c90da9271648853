"""Faults during `fit`, in real processes: SIGKILL at random moments and at planted points of the save
leaves the previous model complete and loadable; SIGINT/SIGTERM checkpoint and exit 130, and `--resume`
then ends on exactly the weights of an uninterrupted run; a second writer is refused; leftovers of a
killed fit are removed by the next one.

All scenarios start at once (each its own process, paused or slowed by fault_harness.py), so the
processes' start-up overlaps. Random delays come from FORECAST_FAULT_SEED (printed in every failure).
"""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.slow  # eight fits in real processes, killed and resumed

HARNESS = Path(__file__).with_name("fault_harness.py")
# Two layers with dropout, so resuming must also restore the RNG that draws the dropout masks.
FIT = ["--target", "value", "--epochs", "4", "--patience", "100", "--hidden", "4", "--layers", "2", "--dropout", "0.2",
       "--window", "8", "--batch-size", "16", "--quiet"]
SEED = int(os.environ.get("FORECAST_FAULT_SEED") or random.SystemRandom().randrange(10**6))
MARK_TIMEOUT = 120.0
# One thread per process: eight processes on a couple of cores would otherwise spin against each other.
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MODEL_FILES = {"manifest.json", "model.safetensors", "history.csv", "report.json", "report.md"}


@dataclass
class Scenario:
    """One process: where it pauses, then what the test does to it, step by step."""

    point: str
    plan: list[tuple]  # ("mark", name) | ("sleep", low, high) | ("signal", signum) | ("hold",)
    folder: Path | None = None
    process: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)
    held: bool = False
    problem: str | None = None
    second_writer: object = None  # the CliRunner result of a fit started while this one held the lock
    model_during_second_writer: tuple[dict, dict] | None = None  # model files before and after it


SCENARIOS = {
    "kill_at_any_moment": Scenario("none", [("sleep", 0.3, 5.0), ("signal", signal.SIGKILL)]),
    "kill_in_training": Scenario("train", [("mark", "train"), ("sleep", 0.0, 0.8), ("signal", signal.SIGKILL)]),
    "kill_writing_weights": Scenario("weights", [("mark", "weights"), ("signal", signal.SIGKILL)]),
    "kill_before_publish": Scenario("staged", [("mark", "staged"), ("hold",)]),
    "kill_after_swap": Scenario("exchanged", [("mark", "exchanged"), ("signal", signal.SIGKILL)]),
    "kill_saving_checkpoint": Scenario("checkpoint", [("mark", "train"), ("sleep", 0.0, 0.5),
                                                      ("signal", signal.SIGINT), ("mark", "checkpoint"),
                                                      ("signal", signal.SIGKILL)]),
    "sigint_in_training": Scenario("train", [("mark", "train"), ("sleep", 0.0, 0.8), ("signal", signal.SIGINT)]),
    "sigterm_in_training": Scenario("train", [("mark", "train-later"), ("sleep", 0.0, 0.6),
                                              ("signal", signal.SIGTERM)]),
}
LEAVES_LEFTOVERS = {"kill_writing_weights", "kill_before_publish", "kill_after_swap", "kill_saving_checkpoint"}


def write_series(path: Path, rows: int = 300) -> None:
    start = 1672531200  # 2023-01-01 00:00 UTC
    lines = [f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(start + 3600 * i))},"
             f"{10 + math.sin(i / 6) + 0.01 * i:.4f}" for i in range(rows)]
    path.write_text("time,value\n" + "\n".join(lines) + "\n")


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def losses(model: Path) -> list[tuple[str, str, str]]:
    """(epoch, train loss, validation loss) as written in history.csv, the seconds left out."""
    rows = (model / "history.csv").read_text().splitlines()[1:]
    return [tuple(row.split(",")[:3]) for row in rows]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def drive(scenario: Scenario, rng: random.Random) -> None:
    """Carry out a scenario's plan against its running process (in a thread of its own)."""
    marks = scenario.folder / "marks"
    started = time.monotonic()
    for step in scenario.plan:
        if step[0] == "mark":
            while not (marks / step[1]).exists():
                if scenario.process.poll() is not None or time.monotonic() - started > MARK_TIMEOUT:
                    scenario.problem = f"never reached {step[1]!r} (exit {scenario.process.poll()})"
                    return
                time.sleep(0.005)
        elif step[0] == "sleep":
            delay = rng.uniform(step[1], step[2])
            scenario.log.append(f"slept {delay:.3f}s")
            time.sleep(delay)
        elif step[0] == "signal":
            scenario.log.append(f"sent {signal.Signals(step[1]).name}")
            if scenario.process.poll() is None:
                scenario.process.send_signal(step[1])
        elif step[0] == "hold":
            scenario.held = True
            return
    scenario.process.wait(timeout=MARK_TIMEOUT)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every scenario run at once, each on a copy of the same previous model (trained with another seed)."""
    base = tmp_path_factory.mktemp("faults")
    write_series(base / "series.csv")
    previous = run_cli("fit", base / "series.csv", "--out", base / "previous", *FIT, "--seed", "7")
    assert previous.exit_code == 0, previous.stderr
    reference = run_cli("fit", base / "series.csv", "--out", base / "reference", *FIT)
    assert reference.exit_code == 0, reference.stderr
    for name, scenario in SCENARIOS.items():
        scenario.folder = base / name
        (scenario.folder / "marks").mkdir(parents=True)
        shutil.copy(base / "series.csv", scenario.folder / "series.csv")
        shutil.copytree(base / "previous", scenario.folder / "model")
        scenario.process = subprocess.Popen(
            [sys.executable, str(HARNESS), scenario.point, str(scenario.folder / "marks"), "fit", "series.csv",
             "--out", "model", *FIT], cwd=scenario.folder, stdout=subprocess.DEVNULL, env=CHILD_ENV,
            stderr=open(scenario.folder / "stderr.txt", "wb"))
    rng = random.Random(SEED)
    threads = [threading.Thread(target=drive, args=(s, random.Random(rng.random()))) for s in SCENARIOS.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for scenario in SCENARIOS.values():
        if scenario.held:  # paused before publishing, lock held: try a second writer, then kill it
            before = files_of(scenario.folder / "model")
            scenario.second_writer = run_cli("fit", scenario.folder / "series.csv", "--out",
                                             scenario.folder / "model", *FIT)
            scenario.model_during_second_writer = before, files_of(scenario.folder / "model")
            scenario.process.send_signal(signal.SIGKILL)
            scenario.process.wait()
    yield base
    for scenario in SCENARIOS.values():
        if scenario.process.poll() is None:
            scenario.process.kill()
            scenario.process.wait()


def context(name: str) -> str:
    scenario = SCENARIOS[name]
    stderr = (scenario.folder / "stderr.txt").read_text(errors="replace")[-600:]
    return f"FORECAST_FAULT_SEED={SEED} {name}: {scenario.log} {scenario.problem or ''} stderr: {stderr}"


def assert_complete_and_loadable(model: Path, why: str) -> None:
    assert {p.name for p in model.iterdir()} == MODEL_FILES, why
    result = run_cli("predict", model.parent / "series.csv", "--model", model)
    assert result.exit_code == 0, (why, result.stderr)
    assert len(result.stdout.strip().splitlines()) == 2, why


def test_second_writer_is_refused_while_a_fit_holds_the_lock(runs):
    scenario = SCENARIOS["kill_before_publish"]
    assert scenario.held, context("kill_before_publish")
    result = scenario.second_writer
    assert result.exit_code == 2, result.stderr
    assert f"another fit (pid {scenario.process.pid}) is writing this model now" in result.stderr
    assert "Traceback" not in result.stderr
    before, after = scenario.model_during_second_writer
    assert after == before


@pytest.mark.parametrize("name", ["kill_at_any_moment", "kill_in_training", "kill_writing_weights",
                                  "kill_before_publish", "kill_after_swap", "kill_saving_checkpoint"])
def test_sigkill_leaves_a_complete_loadable_model(runs, name):
    scenario = SCENARIOS[name]
    why = context(name)
    assert scenario.problem is None, why
    assert scenario.process.returncode in (-signal.SIGKILL, 0), why  # 0: the fit ended before the kill
    model = scenario.folder / "model"
    assert_complete_and_loadable(model, why)
    previous = files_of(runs / "previous")
    if name in ("kill_in_training", "kill_writing_weights", "kill_before_publish", "kill_saving_checkpoint"):
        assert files_of(model) == previous, why
    if name == "kill_after_swap":
        assert files_of(model)["model.safetensors"] != previous["model.safetensors"], why
        assert files_of(model)["model.safetensors"] == files_of(runs / "reference")["model.safetensors"], why
    assert not (scenario.folder / "model.checkpoint").exists(), why


@pytest.mark.parametrize("name", sorted(LEAVES_LEFTOVERS))
def test_next_fit_removes_what_a_killed_fit_left(runs, name):
    scenario = SCENARIOS[name]
    found = leftovers(scenario.folder)
    assert found, context(name)
    talkative = [arg for arg in FIT if arg != "--quiet"]
    result = run_cli("fit", scenario.folder / "series.csv", "--out", scenario.folder / "model", *talkative,
                     "--epochs", "1")
    assert result.exit_code == 0, result.stderr
    assert f"removed {len(found)} temporary folder(s)" in result.stderr
    assert leftovers(scenario.folder) == []


@pytest.mark.parametrize("name", ["sigint_in_training", "sigterm_in_training"])
def test_signal_checkpoints_exits_130_and_resume_matches_an_uninterrupted_fit(runs, name):
    from safetensors.torch import load_file

    scenario = SCENARIOS[name]
    why = context(name)
    assert scenario.process.returncode == 130, why
    stderr = (scenario.folder / "stderr.txt").read_text()
    assert "interrupted: stopped in epoch" in stderr and "checkpoint saved to model.checkpoint" in stderr, why
    assert "Traceback" not in stderr, why
    assert files_of(scenario.folder / "model") == files_of(runs / "previous"), why
    assert (scenario.folder / "model.checkpoint" / "state.json").is_file(), why

    talkative = [arg for arg in FIT if arg != "--quiet"]
    resumed = run_cli("fit", scenario.folder / "series.csv", "--out", scenario.folder / "model", *talkative,
                      "--resume")
    assert resumed.exit_code == 0, (why, resumed.stderr)
    assert "resuming from" in resumed.stderr and "model.checkpoint: epoch" in resumed.stderr, why
    weights = load_file(scenario.folder / "model" / "model.safetensors")
    expected = load_file(runs / "reference" / "model.safetensors")
    assert weights.keys() == expected.keys(), why
    for key in expected:
        assert (weights[key] == expected[key]).all(), (key, why)
    # The best weights may predate the interruption; the losses of every epoch cannot.
    assert losses(scenario.folder / "model") == losses(runs / "reference"), why
    assert not (scenario.folder / "model.checkpoint").exists(), why
