"""`forecast predict|evaluate --engine numpy`: the same forecasts and scores as the torch engine, without importing torch."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

SINE = str(Path(__file__).resolve().parents[2] / "sample_data" / "sine.csv")
TINY = ["--hidden", "8", "--epochs", "2", "--window", "12", "--horizon", "3", "--quiet"]
MODELS = {"lstm": ["--cell", "lstm"], "gru": ["--cell", "gru"],
          "lstm_bidirectional_2_layers": ["--cell", "lstm", "--bidirectional", "--layers", "2"],
          "gru_bidirectional_2_layers": ["--cell", "gru", "--bidirectional", "--layers", "2"]}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """One tiny fitted model directory per cell and shape (two epochs move the head off its zero init)."""
    root = tmp_path_factory.mktemp("models")
    for name, options in MODELS.items():
        result = run_cli("fit", SINE, "--target", "value", "--out", str(root / name), *TINY, *options)
        assert result.exit_code == 0, result.output
    return {name: root / name for name in MODELS}


def _predict(model: Path, engine: str) -> pd.DataFrame:
    result = run_cli("predict", "--model", str(model), "--engine", engine)
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout))


@pytest.mark.parametrize("name", list(MODELS))
def test_numpy_engine_forecasts_equal_torch_engine(models: dict[str, Path], name: str) -> None:
    by_torch, by_numpy = _predict(models[name], "torch"), _predict(models[name], "numpy")
    assert list(by_numpy.columns) == ["timestamp", "step", "value"] and len(by_numpy) == 3
    assert (by_numpy["timestamp"] == by_torch["timestamp"]).all()
    np.testing.assert_allclose(by_numpy["value"], by_torch["value"], rtol=1e-5, atol=0)


def _run_in_a_fresh_interpreter(*args: str) -> tuple[str, list[str]]:
    """`forecast ARGS` in a new Python; returns its stdout and the last line: exit code and which torch
    modules were loaded (`exit 0 torch False False`)."""
    script = ("import sys\nfrom forecast_cli.cli.app import main\n"
              f"sys.argv = ['forecast', *{list(args)!r}]\n"
              "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
              "print('exit', code, 'torch', 'torch' in sys.modules, 'safetensors.torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    output, _, last = done.stdout.rpartition("exit ")
    return output, "exit " + last.strip()


@pytest.mark.slow  # a fresh interpreter
def test_numpy_engine_predict_never_imports_torch(models: dict[str, Path]) -> None:
    output, last = _run_in_a_fresh_interpreter("predict", "--model", str(models["lstm"]), "--engine", "numpy")
    assert output.splitlines()[0] == "timestamp,step,value"
    assert last == "exit 0 torch False False"


@pytest.mark.slow  # a fresh interpreter
def test_predict_without_engine_runs_numpy_and_gives_the_torch_engines_forecast(models: dict[str, Path]) -> None:
    output, last = _run_in_a_fresh_interpreter("predict", "--model", str(models["lstm"]))
    assert last == "exit 0 torch False False"  # a cron forecast never pays for importing torch
    by_default = pd.read_csv(io.StringIO(output))
    by_torch = pd.read_csv(io.StringIO(run_cli("predict", "--model", str(models["lstm"]), "--engine", "torch").stdout))
    np.testing.assert_allclose(by_default["value"], by_torch["value"], rtol=1e-5, atol=0)


def test_unknown_engine_is_a_usage_error(models: dict[str, Path]) -> None:
    result = run_cli("predict", "--model", str(models["gru"]), "--engine", "jax")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --engine must be torch or numpy, not 'jax'."


def _scores(result: dict) -> list[float]:
    """Every number of an `evaluate --json` object, in a fixed order."""
    if isinstance(result, dict):
        return [value for key in sorted(result) for value in _scores(result[key])]
    if isinstance(result, list):
        return [value for item in result for value in _scores(item)]
    return [float(result)] if isinstance(result, (int, float)) and result is not None else []


@pytest.mark.parametrize("name", ["lstm", "gru_bidirectional_2_layers"])
def test_numpy_engine_evaluates_like_the_torch_engine(models: dict[str, Path], name: str) -> None:
    runs = {engine: run_cli("evaluate", "--model", str(models[name]), "--json", "--quiet", "--engine", engine)
            for engine in ("torch", "numpy")}
    assert all(result.exit_code == 0 for result in runs.values()), [r.stderr for r in runs.values()]
    by_torch, by_numpy = (json.loads(runs[engine].stdout) for engine in ("torch", "numpy"))
    assert set(by_numpy) == set(by_torch) and set(by_numpy["baselines"]) == set(by_torch["baselines"])
    np.testing.assert_allclose(_scores(by_numpy), _scores(by_torch), rtol=1e-5, atol=1e-9)


@pytest.mark.slow  # a fresh interpreter
def test_numpy_engine_evaluate_never_imports_torch(models: dict[str, Path]) -> None:
    output, last = _run_in_a_fresh_interpreter("evaluate", "--model", str(models["gru"]), "--engine", "numpy", "--json")
    assert json.loads(output)["windows"] > 0
    assert last == "exit 0 torch False False"
