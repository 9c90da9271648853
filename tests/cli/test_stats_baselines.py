"""The optional `stats` extra: with statsforecast installed, `evaluate` also scores AutoETS, AutoARIMA and
AutoTheta on the model's origins (fitted once before them, rolled forward); without it, evaluate's output
is what it always was and statsforecast is never imported (nor at --help)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli

TINY = ["--epochs", "1", "--hidden", "4", "--window", "6", "--quiet"]
STATS = ("AutoETS", "AutoARIMA", "AutoTheta")


@pytest.fixture(autouse=True)
def statistical_baselines_on(monkeypatch):
    """conftest turns them off for every other test; these are about them."""
    monkeypatch.delenv("FORECAST_STATS_BASELINES", raising=False)


def _environment() -> dict:
    return {name: value for name, value in os.environ.items() if name != "FORECAST_STATS_BASELINES"}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A tiny model of a monthly series with a yearly cycle (84 rows)."""
    folder = tmp_path_factory.mktemp("stats")
    rows, rng = 84, np.random.default_rng(0)
    steps = np.arange(rows)
    csv = folder / "monthly.csv"
    pd.DataFrame({"date": pd.date_range("2010-01-01", periods=rows, freq="MS").strftime("%Y-%m-%d"),
                  "value": (50 + 10 * np.sin(2 * np.pi * steps / 12) + rng.normal(size=rows)).round(3)}
                 ).to_csv(csv, index=False)
    out = folder / "m"
    result = run_cli("fit", csv, "--target", "value", "--out", out, *TINY)
    assert result.exit_code == 0, result.stderr
    return out


def _evaluate_without_statsforecast(out: Path) -> tuple[dict, bool]:
    """evaluate --json in a fresh interpreter where statsforecast cannot be imported; (result, whether it
    was imported anyway)."""
    code = ("import sys, json, contextlib, io\n"
            "sys.modules['statsforecast'] = None\n"  # as if it were not installed: importing it fails
            "from forecast_cli.cli.app import app\n"
            "buffer = io.StringIO()\n"
            "with contextlib.redirect_stdout(buffer):\n"
            "    try:\n"
            f"        app(['evaluate', '--model', {str(out)!r}, '--json', '--quiet'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(json.dumps([json.loads(buffer.getvalue()), sys.modules.get('statsforecast') is not None]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          env=_environment())
    result, imported = json.loads(done.stdout.strip().splitlines()[-1])
    return result, imported


def test_without_statsforecast_evaluate_gives_the_fit_reports_scores_and_nothing_more(model):
    result, imported = _evaluate_without_statsforecast(model)
    report = json.loads((model / "report.json").read_text())
    assert not imported
    assert "statistical" not in result
    assert set(result["baselines"]) == set(report["baselines"]) == {"naive", "seasonal_naive", "linear"}
    assert result["windows"] == report["windows"]
    for name, scores in report["baselines"].items():
        assert result["baselines"][name] == pytest.approx(scores)
    assert result["metrics"] == pytest.approx(report["metrics"])


def test_help_and_the_check_for_the_extra_do_not_import_statsforecast():
    code = ("import sys, contextlib, io\n"
            "from forecast_cli import stats_baselines\n"
            "stats_baselines.installed()\n"
            "from forecast_cli.cli.app import app\n"
            "for args in (['--help'], ['evaluate', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try:\n"
            "            app(args)\n"
            "        except SystemExit:\n"
            "            pass\n"
            "print('statsforecast' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          env=_environment())
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_with_statsforecast_evaluate_scores_the_three_models_on_the_same_origins(model, tmp_path):
    pytest.importorskip("statsforecast")
    written = tmp_path / "report.md"
    result = json.loads(run_cli("evaluate", "--model", model, "--json", "--quiet", "--report", written).stdout)
    entry = result["statistical"]
    assert entry["origins"] == result["windows"] and entry["every"] == 1 and entry["season"] == 12
    assert entry["model_on_these_origins"] == pytest.approx(result["metrics"])
    for name in STATS:
        assert name in result["baselines"], entry["failed"]
        assert result["baselines"][name]["mase"] > 0
    markdown = written.read_text()
    assert "| AutoETS |" in markdown and "rolled forward without refitting" in markdown
    assert not set(STATS) & set(json.loads((model / "report.json").read_text())["baselines"])  # fit's report: unchanged


def test_the_switch_leaves_them_out_where_statsforecast_is_installed(model, monkeypatch):
    monkeypatch.setenv("FORECAST_STATS_BASELINES", "0")
    result = json.loads(run_cli("evaluate", "--model", model, "--json", "--quiet").stdout)
    assert "statistical" not in result and not set(STATS) & set(result["baselines"])


def test_with_many_origins_the_statistical_models_are_scored_on_every_kth(model, monkeypatch):
    pytest.importorskip("statsforecast")
    from forecast_cli import stats_baselines

    monkeypatch.setattr(stats_baselines, "MAX_ORIGINS", 5)
    result = json.loads(run_cli("evaluate", "--model", model, "--json", "--quiet").stdout)
    entry = result["statistical"]
    assert entry["every"] == -(-result["windows"] // 5) and entry["origins"] <= 5
    assert entry["model_on_these_origins"]["mase"] != pytest.approx(result["metrics"]["mase"])


def test_rolling_forward_uses_the_history_up_to_each_origin_without_refitting():
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoETS

    from forecast_cli import stats_baselines

    target = 10 + np.sin(2 * np.pi * np.arange(120) / 12)
    origins = np.arange(100, 110)
    made, failures = stats_baselines.forecasts(target, origins, 2, 12)
    assert not failures
    fitted = AutoETS(season_length=12).fit(target[:100])
    np.testing.assert_allclose(made["AutoETS"][5], fitted.forward(y=target[:105], h=2)["mean"])
