"""`fit --task classify`: a softmax head on the same encoder, through every command."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
COSINE, SHANGHAI = str(SAMPLES / "cosine_sign.csv"), str(SAMPLES / "sh000001_daily.csv")


def _ok(args: list[str]):
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def cosine_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cosine") / "model"
    _ok(["fit", COSINE, "--task", "classify", "--target", "label", "--horizon", "5", "--hidden", "16",
         "--epochs", "30", "--out", str(out), "--quiet"])
    return out


def test_classifier_beats_majority_and_persistence_on_cosine_sign(cosine_model: Path) -> None:
    result = json.loads(_ok(["evaluate", "--model", str(cosine_model), "--json"]).stdout)
    assert result["task"] == "classify" and result["classes"] == [0, 1] and result["horizon"] == 5
    accuracy, baselines = result["metrics"]["accuracy"], result["baselines"]
    assert accuracy > baselines["majority"]["accuracy"] + 0.2
    assert accuracy > baselines["persistence"]["accuracy"]
    assert sum(map(sum, result["confusion_matrix"])) == result["windows"]


def test_classifier_predicts_class_and_probabilities_with_both_engines(cosine_model: Path) -> None:
    tables = {engine: pd.read_csv(io.StringIO(_ok(["predict", "--model", str(cosine_model), "--engine",
                                                   engine]).stdout)) for engine in ("torch", "numpy")}
    table = tables["torch"]
    assert list(table.columns) == ["timestamp", "step", "class", "p_0", "p_1"] and table["step"].tolist() == [5]
    assert table["p_0"].iloc[0] + table["p_1"].iloc[0] == pytest.approx(1.0)
    assert table["class"].iloc[0] == int(table["p_1"].iloc[0] > 0.5)
    np.testing.assert_allclose(tables["numpy"][["p_0", "p_1"]], table[["p_0", "p_1"]], rtol=0, atol=1e-5)
    answer = json.loads(_ok(["predict", "--model", str(cosine_model), "--format", "json"]).stdout)
    assert answer["target"] == "label" and answer["classes"] == [0, 1]
    assert set(answer["forecast"][0]) == {"timestamp", "step", "class", "p_0", "p_1"}


def test_classifier_plots_and_describes_its_classes(cosine_model: Path, tmp_path: Path) -> None:
    _ok(["plot", "--model", str(cosine_model), "--out", str(tmp_path / "p.png")])
    assert (tmp_path / "p.png").stat().st_size > 1000
    manifest = json.loads(_ok(["info", "--model", str(cosine_model), "--json"]).stdout)
    assert manifest["config"]["data"]["task"] == "classify"
    assert manifest["classification"]["classes"] == [0, 1] and manifest["classification"]["majority"] in (0, 1)


def test_string_labels_are_classes_named_in_the_output(tmp_path: Path) -> None:
    data = pd.read_csv(COSINE).head(400)
    data["label"] = data["label"].map({0: "negative", 1: "positive"})
    data.to_csv(tmp_path / "words.csv", index=False)
    _ok(["fit", str(tmp_path / "words.csv"), "--task", "classify", "--target", "label", "--hidden", "4",
         "--epochs", "2", "--out", str(tmp_path / "m"), "--quiet"])
    table = pd.read_csv(io.StringIO(_ok(["predict", "--model", str(tmp_path / "m")]).stdout))
    assert list(table.columns) == ["timestamp", "step", "class", "p_negative", "p_positive"]
    assert table["class"].iloc[0] in ("negative", "positive")
    data.loc[len(data) - 1, "label"] = "zero"
    data.to_csv(tmp_path / "unseen.csv", index=False)
    result = run_cli("predict", str(tmp_path / "unseen.csv"), "--model", str(tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {tmp_path / 'unseen.csv'}: label column 'label' line 401 holds 'zero', "
                                     "which is not one of the model's classes (negative, positive); fit the model "
                                     "on data that has it.")


def test_direction_of_shanghai_close_is_classified_up_or_down(tmp_path: Path) -> None:
    pd.read_csv(SHANGHAI).tail(600).to_csv(tmp_path / "sh.csv", index=False)
    _ok(["fit", str(tmp_path / "sh.csv"), "--target-from", "close", "--classify-direction", "--hidden", "4",
         "--epochs", "2", "--out", str(tmp_path / "m"), "--quiet"])
    manifest = json.loads(_ok(["info", "--model", str(tmp_path / "m"), "--json"]).stdout)
    assert manifest["classification"]["label"] == "close_direction"
    assert manifest["classification"]["classes"] == ["down", "up"]
    assert manifest["classification"]["derived_from"] == "close" and "label" in manifest["frame"]["excluded"]
    result = json.loads(_ok(["evaluate", "--model", str(tmp_path / "m"), "--json"]).stdout)
    assert set(result["baselines"]) == {"majority", "persistence"}
    assert set(result["metrics"]) == {"accuracy", "balanced_accuracy", "macro_f1"}
    table = pd.read_csv(io.StringIO(_ok(["predict", "--model", str(tmp_path / "m"), "--engine", "numpy"]).stdout))
    assert list(table.columns) == ["timestamp", "step", "class", "p_down", "p_up"]


@pytest.mark.parametrize("args, message", [
    (["--target-from", "close"], "error: --target-from close derives a label; add --classify-direction (up if the "
                                 "value --horizon rows later is higher, else down)."),
    (["--task", "classify", "--target", "label", "--decoder", "seq2seq"],
     "error: --decoder seq2seq unrolls a forecast sequence; --task classify predicts one label, so use --decoder "
     "direct."),
    ([], "error: --target is missing: name the column to forecast (e.g. --target close), or derive an up/down label "
         "with --target-from COL --classify-direction. See 'forecast fit --help'."),
])
def test_contradictory_classify_options_are_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli("fit", COSINE, *args, "--out", str(tmp_path / "m"))
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_fail_above_is_refused_for_a_classifier(cosine_model: Path) -> None:
    result = run_cli("evaluate", "--model", str(cosine_model), "--fail-above", "mape=0.1")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --fail-above limits forecast errors; this model is a classifier")


@pytest.mark.slow  # a fresh interpreter
def test_classifier_numpy_predict_never_imports_torch(cosine_model: Path) -> None:
    script = ("import sys\nfrom forecast_cli.cli.app import main\n"
              f"sys.argv = ['forecast', 'predict', '--model', {str(cosine_model)!r}, '--engine', 'numpy']\n"
              "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
              "print('exit', code, 'torch', 'torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[0] == "timestamp,step,class,p_0,p_1", done.stderr
    assert done.stdout.splitlines()[-1] == "exit 0 torch False"
