"""A refit publishing its model directory while `predict` (or `plot`) reads the previous one: the reader
uses the old model or the new one, whole, never the manifest of one with the weights of the other; and
weights that are not the ones the manifest was saved with are refused, even when their shapes fit."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from forecast_cli.cli.app import app
from forecast_cli.store import atomic
from forecast_cli.store.manifest import Manifest

FIT = ["--target", "value", "--epochs", "2", "--window", "6", "--quiet"]


def invoke(args: list):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """On one CSV: `narrow` (hidden 4), `wide` (hidden 8) and `reseeded` (hidden 4, another seed)."""
    folder = tmp_path_factory.mktemp("models")
    series = "\n".join(f"2022-01-{1 + i // 24:02d} {i % 24:02d}:00,{10 + math.sin(i / 4):.4f},{i % 3}" for i in range(90))
    (folder / "data.csv").write_text("time,value,load\n" + series + "\n")
    for name, options in {"narrow": ["--hidden", "4"], "wide": ["--hidden", "8"],
                          "reseeded": ["--hidden", "4", "--seed", "1"]}.items():
        result = invoke(["fit", folder / "data.csv", "--out", folder / name, *FIT, *options])
        assert result.exit_code == 0, result.stderr
    return folder


@pytest.fixture
def model(models, tmp_path) -> Path:
    return Path(shutil.copytree(models / "narrow", tmp_path / "model"))


def forecast(model: Path, data: Path, engine: str = "torch") -> str:
    result = invoke(["predict", data, "--model", model, "--engine", engine])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def swap_in(target: Path, source: Path, how: str) -> None:
    """Publish a copy of `source` at `target` as a refit does (`publish`: exchange, then the previous
    directory removed), or stop after the exchange, or take the two-rename path of systems without it."""
    staged = atomic.staging_dir(target)
    for path in source.iterdir():
        shutil.copy(path, staged / path.name)
    if how == "exchange only":
        assert atomic._exchange(staged, target)
    elif how == "two renames":
        with mock.patch.object(atomic, "_exchange", lambda first, second: False):
            atomic.publish(staged, target)
    else:
        atomic.publish(staged, target)


def swap_after_manifest(monkeypatch, model: Path, sources: list[Path], how: str) -> list[Path]:
    """Swap the next of `sources` in at `model` each time its manifest has just been parsed (the
    moment between reading manifest.json and opening model.safetensors)."""
    parse = Manifest.from_json
    swapped: list[Path] = []

    def parse_then_swap(raw, where):
        manifest = parse(raw, where)
        if Path(where).parent == model and len(swapped) < len(sources):
            swapped.append(sources[len(swapped)])
            swap_in(model, swapped[-1], how)
        return manifest

    monkeypatch.setattr(Manifest, "from_json", staticmethod(parse_then_swap))
    return swapped


# After `publish` and `two renames` the previous directory's files are gone before the weights are
# opened, so the load starts over once and gets the new model; after an exchange alone, the handle on
# the directory still reads the previous model's weights, with its manifest.
@pytest.mark.parametrize("how, expected", [("publish", "wide"), ("two renames", "wide"), ("exchange only", "narrow")])
@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_refit_swapped_in_between_manifest_and_weights_gives_one_model_whole(models, model, monkeypatch,
                                                                               how, expected, engine):
    outputs = {name: forecast(models / name, models / "data.csv", engine) for name in ("narrow", "wide")}
    assert outputs["narrow"] != outputs["wide"]
    swapped = swap_after_manifest(monkeypatch, model, [models / "wide"], how)
    assert forecast(model, models / "data.csv", engine) == outputs[expected]
    assert swapped == [models / "wide"]


def test_a_directory_replaced_during_every_read_is_refused_in_one_line(models, model, monkeypatch):
    swap_after_manifest(monkeypatch, model, [models / "wide", models / "narrow", models / "wide"], "publish")
    result = invoke(["predict", models / "data.csv", "--model", model])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "was replaced while it was read" in lines[0], result.stderr


def test_plot_draws_the_history_of_the_model_it_loaded(models, model):
    from forecast_cli.loaded import open_model
    from forecast_cli.store.artifact import read_history

    loaded = open_model(model)
    swap_in(model, models / "wide", "publish")
    narrow, wide = (read_history(models / name / "history.csv") for name in ("narrow", "wide"))
    assert narrow != wide
    assert loaded.training_history() == narrow


def test_the_manifest_records_the_weights_digest(models):
    manifest = json.loads((models / "narrow" / "manifest.json").read_text())
    assert manifest["weights_sha256"] == hashlib.sha256((models / "narrow" / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_weights_of_a_same_shaped_model_are_refused(models, model, engine):
    shutil.copy(models / "reseeded" / "model.safetensors", model / "model.safetensors")
    result = invoke(["predict", models / "data.csv", "--model", model, "--engine", engine])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.safetensors" in lines[0] and "sha256" in lines[0], result.stderr


def test_a_copy_of_a_model_with_foreign_weights_is_refused(models, model, tmp_path):
    import forecast_cli
    from forecast_cli.errors import ArtifactError

    loaded = forecast_cli.load(model)
    shutil.copy(models / "reseeded" / "model.safetensors", model / "model.safetensors")
    with pytest.raises(ArtifactError, match="sha256"):
        loaded.save(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_saving_a_loaded_model_after_a_refit_replaced_its_directory_is_refused(models, model, tmp_path):
    import forecast_cli
    from forecast_cli.errors import ArtifactError

    loaded = forecast_cli.load(model)
    swap_in(model, models / "wide", "publish")
    with pytest.raises(ArtifactError, match="changed since this model was loaded"):
        loaded.save(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    assert forecast_cli.load(model).save(tmp_path / "copy") == tmp_path / "copy"  # loaded again, it saves


def test_a_model_saved_before_the_digest_existed_still_loads_and_saves(models, model, tmp_path):
    import forecast_cli

    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["weights_sha256"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    assert forecast(model, models / "data.csv") == forecast(models / "narrow", models / "data.csv")
    forecast_cli.load(model).save(tmp_path / "copy")
    assert (tmp_path / "copy" / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()
