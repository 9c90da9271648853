"""`fit --warm-start [DIR]`: training continues from a saved model's weights (and keeps its scaler);
an incompatible model is refused in one line naming the difference; the report shows the test error
before and after; a failed or interrupted warm start leaves the old model as it was."""

import json

import pytest
from conftest import TINY_TARGET, make_tiny_frame, run_cli
from safetensors.numpy import load_file

import forecast_cli
from forecast_cli.cli.options import optional_values
from forecast_cli.errors import ConfigError, Interrupted

FIT = ["--target", TINY_TARGET, "--window", "10", "--hidden", "4", "--batch-size", "32", "--device", "cpu"]
OPTIONS = dict(window=10, hidden=4, batch_size=32, device="cpu")


def _without(args, option):
    """`args` without `option` and its value."""
    if option not in args:
        return list(args)
    at = args.index(option)
    return args[:at] + args[at + 2:]


def _files(directory):
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def _own_weights(directory):
    return {name: value for name, value in load_file(directory / "model.safetensors").items()
            if not name.startswith("baseline.")}


def _distance(first, second):
    return max(float(abs(first[name] - second[name]).max()) for name in first)


@pytest.fixture(scope="module")
def old_model(tmp_path_factory):
    """Last night's model: 100 days of the tiny series; tonight's data has 30 more."""
    folder = tmp_path_factory.mktemp("warm")
    make_tiny_frame(100).to_csv(folder / "old.csv", index=False)
    make_tiny_frame(130).to_csv(folder / "new.csv", index=False)
    result = run_cli("fit", folder / "old.csv", *FIT, "--epochs", 3, "--out", folder / "model", "--quiet")
    assert result.exit_code == 0, result.stderr
    return folder


def test_warm_start_starts_from_the_old_weights(old_model, tmp_path):
    old = _own_weights(old_model / "model")
    warm = forecast_cli.fit(old_model / "new.csv", TINY_TARGET, **OPTIONS, epochs=1, lr=1e-6, seed=1,
                            out=tmp_path / "warm", warm_start=old_model / "model", warn=lambda message: None)
    cold = forecast_cli.fit(old_model / "new.csv", TINY_TARGET, **OPTIONS, epochs=1, lr=1e-6, seed=1,
                            out=tmp_path / "cold", warn=lambda message: None)
    assert _distance(_own_weights(tmp_path / "warm"), old) < 1e-4
    assert _distance(_own_weights(tmp_path / "cold"), old) > 1e-2
    assert warm.manifest.scaler.mean.tolist() == forecast_cli.load(old_model / "model").manifest.scaler.mean.tolist()
    assert cold.manifest.scaler.mean.tolist() != warm.manifest.scaler.mean.tolist()  # kept, not refitted


def test_warm_start_reports_the_test_error_before_and_after(old_model, tmp_path):
    model = tmp_path / "model"
    run_cli("fit", old_model / "old.csv", *FIT, "--epochs", 2, "--out", model, "--quiet")
    before = forecast_cli.load(model, warn=lambda message: None).evaluate(old_model / "new.csv")  # the old model after its own fit period
    result = run_cli("fit", old_model / "new.csv", *FIT, "--epochs", 2, "--out", model, "--warm-start")
    assert result.exit_code == 0, result.stderr
    report = json.loads((model / "report.json").read_text())
    record = report["warm_start"]
    assert record["from"] == str(model) and record["after"] == report["metrics"]
    assert set(record["before"]) == set(report["metrics"])
    line = next(line for line in result.stderr.splitlines() if line.startswith("warm start from"))
    assert f"test mase {record['before']['mase']:.4g} before" in line and f"{record['after']['mase']:.4g} after" in line
    assert "## Warm start" in (model / "report.md").read_text()
    assert before["windows"] >= report["windows"]  # scored on this test part, which lies after its fit period


@pytest.mark.parametrize("option, value, named", [("--hidden", "8", "--hidden 4"), ("--window", "12", "--window 10"),
                                                   ("--cell", "gru", "--cell lstm"), ("--horizon", "2", "--horizon 1"),
                                                   ("--features", "sales", "reads columns sales, temp"),
                                                   ("--calendar", "dayofweek,dayofyear",
                                                    "reads calendar inputs dayofweek, this fit has --calendar "
                                                    "dayofweek,dayofyear")])
def test_warm_start_refuses_an_incompatible_model_in_one_line_naming_it(old_model, tmp_path, option, value, named):
    before = _files(old_model / "model")
    args = _without(FIT, option)
    result = run_cli("fit", old_model / "new.csv", *args, option, value, "--epochs", 1, "--out", tmp_path / "m",
                     "--warm-start", old_model / "model")
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: --warm-start {old_model / 'model'}: ")
    assert named in errors[0]
    assert _files(old_model / "model") == before and not (tmp_path / "m").exists()


def test_warm_start_keeps_the_saved_models_calendar_where_auto_would_choose_anew(old_model, tmp_path):
    # 1,200 days (840 in the training part) would give day of year too; the saved model reads day of week only.
    folder = tmp_path
    make_tiny_frame(1200).to_csv(folder / "long.csv", index=False)
    assert forecast_cli.load(old_model / "model").manifest.configs.data.calendar == "dayofweek"
    warm = forecast_cli.fit(folder / "long.csv", TINY_TARGET, **OPTIONS, epochs=1, out=folder / "warm",
                            warm_start=old_model / "model", warn=lambda message: None)
    cold = forecast_cli.fit(folder / "long.csv", TINY_TARGET, **OPTIONS, epochs=1, out=folder / "cold",
                            warn=lambda message: None)
    assert warm.manifest.configs.data.calendar == "dayofweek"
    assert cold.manifest.configs.data.calendar == "dayofweek,dayofyear"


def test_bare_warm_start_uses_out_and_needs_a_model_there(tmp_path, old_model):
    result = run_cli("fit", old_model / "new.csv", *FIT, "--epochs", 1, "--out", tmp_path / "none", "--warm-start")
    assert result.exit_code == 2 and f"--warm-start {tmp_path / 'none'}" in result.stderr
    assert optional_values(["fit", "d.csv", "--warm-start"]) == ["fit", "d.csv", "--warm-start="]
    assert optional_values(["--warm-start", "--out", "m"]) == ["--warm-start=", "--out", "m"]
    assert optional_values(["--warm-start", "old", "d.csv"]) == ["--warm-start", "old", "d.csv"]
    with pytest.raises(ConfigError, match="--warm-start without a directory"):
        forecast_cli.fit(old_model / "new.csv", TINY_TARGET, **OPTIONS, warm_start=True)


def test_an_interrupted_warm_start_leaves_the_old_model_intact(old_model, tmp_path):
    import shutil

    model = shutil.copytree(old_model / "model", tmp_path / "model")
    before = _files(model)
    with pytest.raises(Interrupted):
        forecast_cli.fit(old_model / "new.csv", TINY_TARGET, **OPTIONS, epochs=2, out=model, warm_start=True,
                         should_stop=lambda: True, warn=lambda message: None)
    assert _files(model) == before
