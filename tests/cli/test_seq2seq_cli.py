"""`fit --decoder seq2seq` shares the artifact format and every command with the direct head."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

SINE = str(Path(__file__).resolve().parents[2] / "sample_data" / "sine.csv")


@pytest.fixture(scope="module")
def seq2seq_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seq2seq") / "model"
    result = run_cli("fit", SINE, "--target", "value", "--decoder", "seq2seq", "--bidirectional",
                     "--cell", "gru", "--hidden", "8", "--epochs", "2", "--window", "12",
                     "--horizon", "4", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_seq2seq_model_predicts_alike_with_both_engines(seq2seq_model: Path) -> None:
    frames = {}
    for engine in ("torch", "numpy"):
        result = run_cli("predict", "--model", str(seq2seq_model), "--engine", engine)
        assert result.exit_code == 0, result.output
        frames[engine] = pd.read_csv(io.StringIO(result.stdout))
    assert len(frames["torch"]) == 4
    np.testing.assert_allclose(frames["numpy"]["value"], frames["torch"]["value"], rtol=1e-5, atol=0)


def test_seq2seq_model_evaluates_plots_and_reports_its_decoder(seq2seq_model: Path, tmp_path: Path) -> None:
    evaluated = run_cli("evaluate", "--model", str(seq2seq_model), "--json")
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.stdout)
    assert result["horizon"] == 4 and len(result["per_step"]) == 4 and result["metrics"]["mape"] > 0
    plotted = run_cli("plot", "--model", str(seq2seq_model), "--out", str(tmp_path / "p.png"))
    assert plotted.exit_code == 0 and (tmp_path / "p.png").stat().st_size > 1000
    manifest = json.loads(run_cli("info", "--model", str(seq2seq_model), "--json").stdout)
    assert manifest["config"]["model"]["decoder"] == "seq2seq"
    assert manifest["decoder"]["teacher_forcing"] is False
    assert "seq2seq decoder" in run_cli("info", "--model", str(seq2seq_model)).stdout


def test_unknown_decoder_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("fit", SINE, "--target", "value", "--decoder", "attention",
                     "--out", str(tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --decoder must be 'direct' or 'seq2seq', not 'attention'."
