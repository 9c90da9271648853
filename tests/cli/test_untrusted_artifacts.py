"""A model directory is untrusted input: broken or planted files are refused with one line and exit 2,
nothing in them is unpickled, and paths written in a manifest are never written to."""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import struct
from pathlib import Path

import pytest
from conftest import hang_guard, run_cli


def invoke(args: list):
    """The CLI on a list of arguments (run_cli takes them spread out)."""
    return run_cli(*args)


def assert_refused(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    """A tiny trained model with two inputs; tests edit copies of it."""
    folder = tmp_path_factory.mktemp("original")
    rows = "\n".join(f"2022-01-{1 + i % 28:02d}T{i // 28:02d}:00,{10 + math.sin(i / 4):.4f},{i % 3}" for i in range(84))
    (folder / "data.csv").write_text("time,value,load\n" + rows + "\n")
    result = run_cli("fit", folder / "data.csv", "--target", "value", "--out", folder / "model", "--epochs", "1",
                     "--hidden", "4", "--window", "6", "--quiet")
    assert result.exit_code == 0, result.stderr
    return folder


@pytest.fixture
def model(original, tmp_path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(original / "model", copy)
    return copy


def predict(model: Path, original: Path):
    return run_cli("predict", original / "data.csv", "--model", model)


def edit_manifest(model: Path, change) -> None:
    manifest = json.loads((model / "manifest.json").read_text())
    change(manifest)
    (model / "manifest.json").write_text(json.dumps(manifest))


class PlantedCode:
    """Unpickling this creates `marker`: the proof that a loader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_the_untouched_copy_predicts(model, original):
    result = predict(model, original)
    assert result.exit_code == 0, result.stderr


def test_truncated_weights_are_refused(model, original):
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert_refused(predict(model, original), "model.safetensors", "truncated")


def test_pickled_weights_are_refused_without_running_their_code(model, original, tmp_path):
    marker = tmp_path / "code-ran"
    payload = pickle.dumps({"encoder.weight_ih_l0": PlantedCode(marker)})
    (model / "model.safetensors").write_bytes(payload)
    assert_refused(predict(model, original), "pickle", "not loaded")
    assert not marker.exists()
    pickle.loads(payload)  # the control: this payload does run code when unpickled
    assert marker.exists()


def test_torch_save_weights_are_refused_without_running_their_code(model, original, tmp_path):
    import torch

    marker = tmp_path / "code-ran"
    torch.save({"encoder.weight_ih_l0": PlantedCode(marker)}, model / "model.safetensors")
    assert_refused(predict(model, original), "pickle or torch.save", "not loaded")
    assert not marker.exists()
    control = shutil.copy(model / "model.safetensors", tmp_path / "planted.pt")
    torch.load(control, weights_only=False)  # the control: a trusting load of the same bytes runs the code
    assert marker.exists()


def test_weights_of_another_model_are_refused_naming_the_tensor(model, original, tmp_path):
    rows = "\n".join(f"2022-01-{1 + i % 28:02d}T{i // 28:02d}:00,{10 + math.sin(i / 4):.4f},{i % 3}" for i in range(84))
    (tmp_path / "data.csv").write_text("time,value,load\n" + rows + "\n")
    other = tmp_path / "other"
    assert run_cli("fit", tmp_path / "data.csv", "--target", "value", "--out", other, "--epochs", "1",
                   "--hidden", "8", "--window", "6", "--quiet").exit_code == 0
    shutil.copy(other / "model.safetensors", model / "model.safetensors")
    assert_refused(predict(model, original), "tensor 'encoder.weight_ih_l0' has shape [32, 2]", "needs [16, 2]")


def test_integer_weights_are_refused(model, original):
    from safetensors.torch import load_file, save_file

    weights = load_file(model / "model.safetensors")
    weights["head.bias"] = weights["head.bias"].to(dtype=__import__("torch").int32)
    save_file(weights, model / "model.safetensors")
    assert_refused(predict(model, original), "'head.bias'", "int32")


@pytest.mark.parametrize("change, needles", [
    (lambda m: m.update(format_version=3), ["format version 3 is newer", "upgrade forecast"]),
    (lambda m: m.update(format_version="1"), ["format version '1' is not supported"]),
    (lambda m: m["config"]["model"].update(hidden_size=64), ["'encoder.weight_ih_l0' has shape [16, 2]", "needs [256, 2]"]),
    (lambda m: m["config"]["model"].update(hidden_size=10**9), ["--hidden 1000000000 is more than"]),
    (lambda m: m["frame"].update(numeric=m["frame"]["numeric"] + ["extra"]), ["scaler.mean gives 2", "give 3 inputs"]),
    (lambda m: m["scaler"].update(mean=[1.0]), ["scaler.mean gives 1"]),
    (lambda m: m["scaler"].update(scale=[0.0, 1.0]), ["'scaler.scale'", "above 0"]),
    (lambda m: m["config"]["data"].update(horizon=4), ["'head.weight' has shape [1, 4]", "needs [4, 4]"]),
    (lambda m: m["config"]["data"].update(window=-3), ["--window must be 1 or more, not -3"]),
    (lambda m: m["config"]["model"].update(cell="transformer"), ["--cell must be 'lstm', 'gru' or 'linear', not 'transformer'"]),
    (lambda m: m["config"]["model"].update(run="os.system"), ["'config.model.run' is not part of this format"]),
    (lambda m: m["frame"].pop("target"), ["'frame.target' is missing"]),
    (lambda m: m["frame"].update(numeric="value"), ["'frame.numeric' is 'value'"]),
    (lambda m: m["config"]["model"].update(hidden_size="4"), ["'config.model.hidden_size' is '4', expected an integer"]),
    (lambda m: m.update(frequency="fortnightly"), ["'frequency' is 'fortnightly'"]),
    (lambda m: m["data"].update(path=["/etc/passwd"]), ["'data.path'"]),
    (lambda m: m.update(mase_scale=float("nan")), ["'mase_scale'"]),
    (lambda m: m["data"].update(val_end=None), ["'data.val_end' is None"]),
    (lambda m: m["data"].update(val_end=48), ["data.val_end is 48, expected a timestamp"]),
    (lambda m: m["data"].update(val_end="yesterday-ish"), ["'data.val_end' is 'yesterday-ish', not a timestamp"]),
    (lambda m: m["config"]["model"].update(num_layers=10**4), ["--layers 10000 is more than the 32"]),
    (lambda m: m["config"]["data"].update(horizon=10**8), ["--horizon 100000000 is more than the 10,000"]),
    (lambda m: m["config"]["data"].update(window=10**12), ["--window 1000000000000 is more than"]),
    (lambda m: m["config"]["data"].update(season=10**9), ["--season 1000000000 is more than"]),
    (lambda m: m.update(season=10**9), ["field 'season' is 1000000000", "from 1 to 100,000"]),
    (lambda m: m["config"]["train"].update(epochs=10**30), ["--epochs 1000000000000000000000000000000 is more"]),
    (lambda m: m["config"]["model"].update(hidden_size=8192, num_layers=32),
     ["its model is too large", "more than the 1,073,741,824"]),
    (lambda m: m.update(classification={"label": "x", "classes": list(range(51)), "majority": 0}), ["2 to 50 classes"]),
    (lambda m: m.update(weights_sha256="0" * 63), ["'weights_sha256'", "64 hexadecimal digits"]),
    (lambda m: m.update(weights_sha256="0" * 64), ["model.safetensors", "sha256 is not the one manifest.json records"]),
])
def test_edited_manifest_is_refused_naming_the_field(model, original, change, needles):
    edit_manifest(model, change)
    assert_refused(predict(model, original), *needles)


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"a": ' * 100000 + "1" + "}" * 100000, "not valid JSON"),
])
def test_unreadable_manifest_is_refused(model, original, content, needle):
    (model / "manifest.json").write_text(content)
    assert_refused(predict(model, original), needle)
    assert_refused(run_cli("info", "--model", model), needle)


def test_paths_in_a_manifest_are_never_written_to(model, original, tmp_path):
    planted = tmp_path / "victim.csv"
    edit_manifest(model, lambda m: m["data"].update(path=str(planted)))
    for args in (["predict", original / "data.csv", "--output", tmp_path / "f.csv"],
                 ["evaluate", original / "data.csv", "--report", tmp_path / "r.md"]):
        result = run_cli(*args, "--model", model)
        assert result.exit_code == 0, result.stderr
    assert not planted.exists()
    planted.write_text("time,value,load\n")
    before = planted.stat().st_mtime_ns, planted.read_bytes()
    assert_refused(run_cli("predict", "--model", model), "victim.csv", "header but no rows")
    assert (planted.stat().st_mtime_ns, planted.read_bytes()) == before


def test_a_manifest_cannot_make_predict_read_a_file_that_is_not_data(model, original, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:SECRET-HASH:19000:0:99999:7:::\n")
    edit_manifest(model, lambda m: m["data"].update(path=str(secret)))
    result = run_cli("predict", "--model", model)
    assert_refused(result, "not a .csv/.tsv/.txt file", "pass DATA")
    assert "SECRET-HASH" not in result.stderr + result.stdout
    assert predict(model, original).exit_code == 0  # naming the data explicitly still works


@pytest.mark.parametrize("spec_options", [
    {}, {"cell": "gru", "num_layers": 2, "bidirectional": True}, {"decoder": "seq2seq", "bidirectional": True},
    {"decoder": "seq2seq", "cell": "gru", "num_layers": 3}, {"task": "classify", "n_classes": 3, "cell": "gru"},
])
def test_weight_shapes_known_without_torch_match_the_torch_module(spec_options):
    """Both engines check weights against nn/spec.py's table before allocating anything; it must be torch's own."""
    import torch

    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.spec import ModelSpec, expected_shapes

    spec = ModelSpec(n_features=3, horizon=4, hidden_size=5, **spec_options)
    with torch.device("meta"):
        skeleton = Forecaster(spec)
    assert expected_shapes(spec) == {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()}


def test_damaged_training_history_is_refused(model):
    from forecast_cli.errors import ArtifactError
    from forecast_cli.store.artifact import read_history

    assert read_history(model / "history.csv")[0]["epoch"] == "1"
    (model / "history.csv").write_text("epoch,train_loss,val_loss,seconds\n1,__import__('os'),,\n")
    with pytest.raises(ArtifactError, match="damaged training history"):
        read_history(model / "history.csv")


def _symlink_to_dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _oversized(path: Path) -> None:
    with open(path, "r+b") as handle:  # sparse: 256 MiB, above every file's bound, costs no disk
        handle.truncate(256 * 2**20)


def _symlink_to_a_copy_inside(path: Path) -> None:
    kept = path.with_name(path.name + ".real")
    path.rename(kept)
    path.symlink_to(kept.name)


PLANTED = {"symlink to /dev/zero": (_symlink_to_dev_zero, "is a symbolic link"),
           "FIFO": (_fifo, "is not a regular file"),
           "oversized": (_oversized, "bytes, more than the"),
           "symlink inside the directory": (_symlink_to_a_copy_inside, "is a symbolic link")}


@pytest.mark.parametrize("planted", sorted(PLANTED))
@pytest.mark.parametrize("name, command", [
    ("manifest.json", "predict"), ("manifest.json", "info"), ("model.safetensors", "predict"),
    ("model.safetensors", "predict --engine numpy"), ("history.csv", "plot"),
])
def test_a_planted_file_that_is_not_a_plain_bounded_file_is_refused_before_reading(model, original, tmp_path,
                                                                                  name, command, planted):
    plant, needle = PLANTED[planted]
    plant(model / name)
    verb, *options = command.split()
    data = [] if verb == "info" else [original / "data.csv"]
    extra = ["--out", tmp_path / "plot.png", "--quiet"] if verb == "plot" else []
    with hang_guard():
        result = invoke([verb, *data, "--model", model, *options, *extra])
    assert_refused(result, name, needle)
    assert not (tmp_path / "plot.png").exists()


def test_a_model_directory_reached_through_a_symlink_is_read(model, original, tmp_path):
    link = tmp_path / "link-to-model"
    link.symlink_to(model)
    result = predict(link, original)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == predict(model, original).stdout


def _weights_file(tensors: dict[str, tuple[str, list[int], int]], data_size: int) -> bytes:
    """A safetensors file by hand: name -> (dtype, shape, byte length); `data_size` bytes of zeros after."""
    header, offset = {}, 0
    for name, (dtype, shape, length) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + length]}
        offset += length
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + bytes(data_size)


def _real_layout(model: Path) -> dict[str, tuple[str, list[int], int]]:
    from safetensors import safe_open

    with safe_open(str(model / "model.safetensors"), framework="numpy") as weights:
        return {name: ("F32", list(weights.get_slice(name).get_shape()),
                       4 * math.prod(weights.get_slice(name).get_shape())) for name in weights.keys()}


PLANTED_TENSOR = 200_000_000  # float32 values: 800 MB


def _lying_headers(model: Path) -> dict[str, tuple[bytes, str]]:
    """Weights whose header declares what the manifest's model does not hold: -> (file, needle)."""
    layout = _real_layout(model)
    size = sum(length for _, _, length in layout.values())
    wide = dict(layout, planted=("F32", [PLANTED_TENSOR], 4 * PLANTED_TENSOR))
    stretched = dict(layout, **{"head.bias": ("F32", [PLANTED_TENSOR], 4 * PLANTED_TENSOR)})
    shifted = {name: (dtype, shape, length) for name, (dtype, shape, length) in layout.items()}
    return {
        "an extra 800 MB tensor, the file short": (_weights_file(wide, size), "unknown tensor 'planted'"),
        "a tensor's shape 800 MB": (_weights_file(stretched, size), "'head.bias' has shape [200000000]"),
        "integer values": (_weights_file(dict(layout, **{"head.bias": ("I32", [1], 4)}), size), "int32"),
        "byte ranges past the end": (_weights_file(shifted, size // 2), "follow the header"),
    }


@pytest.fixture
def no_tensor_is_made(monkeypatch):
    """Any call into safetensors' loaders fails the test: a refusal must come from the header alone."""
    import safetensors.numpy
    import safetensors.torch

    def loaded(*args, **kwargs):
        raise AssertionError("safetensors was asked to load a file the header check should have refused")

    for module in (safetensors.numpy, safetensors.torch):
        for name in ("load", "load_file"):
            monkeypatch.setattr(module, name, loaded)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
@pytest.mark.parametrize("lie", ["an extra 800 MB tensor, the file short", "a tensor's shape 800 MB",
                                 "integer values", "byte ranges past the end"])
def test_a_weights_header_unlike_the_manifest_is_refused_before_any_tensor_is_made(model, original, no_tensor_is_made,
                                                                                   lie, engine):
    planted, needle = _lying_headers(model)[lie]
    (model / "model.safetensors").write_bytes(planted)
    result = invoke(["predict", original / "data.csv", "--model", model, "--engine", engine])
    assert_refused(result, "model.safetensors", needle)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_an_800_mb_weights_file_is_refused_by_its_size_before_reading(model, original, no_tensor_is_made, engine):
    layout = _real_layout(model)
    planted = _weights_file(dict(layout, planted=("F32", [PLANTED_TENSOR], 4 * PLANTED_TENSOR)), 0)
    with open(model / "model.safetensors", "wb") as handle:  # sparse: the 800 MB cost no disk
        handle.write(planted)
        handle.truncate(len(planted) + sum(length for _, _, length in layout.values()) + 4 * PLANTED_TENSOR)
    read_before = _bytes_read()
    result = invoke(["predict", original / "data.csv", "--model", model, "--engine", engine])
    assert_refused(result, "model.safetensors", "bytes, more than the")
    assert _bytes_read() - read_before < 100 * 2**20


def _bytes_read() -> int:
    """Bytes this process has read through read(2) so far (Linux), to show a file was not read."""
    io = Path("/proc/self/io")
    if not io.exists():
        pytest.skip("needs /proc/self/io")
    return int(next(line for line in io.read_text().splitlines() if line.startswith("rchar:")).split()[1])


def _zeros(path: Path, size: int = 512 * 2**20) -> Path:
    with open(path, "wb") as handle:  # sparse: no disk used, but 512 MiB to read
        handle.truncate(size)
    return path


def test_a_recorded_data_path_to_a_large_binary_file_is_refused_from_its_first_bytes(model, tmp_path):
    planted = _zeros(tmp_path / "huge.csv")
    edit_manifest(model, lambda m: m["data"].update(path=str(planted)))
    read_before = _bytes_read()
    with hang_guard():
        result = invoke(["predict", "--model", model])
    assert_refused(result, "huge.csv", "looks like a binary file")
    assert _bytes_read() - read_before < 64 * 2**20


@pytest.mark.parametrize("plant", ["fifo", "symlink to /dev/zero", "directory"])
def test_a_recorded_data_path_that_is_not_a_regular_file_is_refused_unread(model, tmp_path, plant):
    planted = tmp_path / "planted.csv"
    {"fifo": os.mkfifo, "symlink to /dev/zero": lambda p: p.symlink_to("/dev/zero"), "directory": os.mkdir}[plant](planted)
    edit_manifest(model, lambda m: m["data"].update(path=str(planted)))
    with hang_guard():
        result = invoke(["predict", "--model", model])
    assert_refused(result, "planted.csv", "is not a regular file", "pass DATA")


@pytest.mark.parametrize("data", ["/dev/zero", "zeros.csv"])
def test_data_that_starts_binary_is_refused_before_the_rest_is_read(model, tmp_path, data):
    path = Path(data) if data.startswith("/") else _zeros(tmp_path / data)
    read_before = _bytes_read()
    with hang_guard():
        result = invoke(["predict", path, "--model", model])
    assert_refused(result, str(path), "looks like a binary file")
    assert _bytes_read() - read_before < 64 * 2**20


@pytest.mark.parametrize("change, needle", [
    (lambda m: m["data"].update(splits=[1]), "'data.splits' is [1]"),
    (lambda m: m["data"].update(rows="many"), "'data.rows' is 'many'"),
    (lambda m: m["data"].update(last_timestamp=[1]), "'data.last_timestamp' is [1]"),
    (lambda m: m["training"].update(seconds="x"), "'training.seconds' is 'x'"),
    (lambda m: m["training"].update(stopped_early="no"), "'training.stopped_early' is 'no'"),
    (lambda m: m.update(baselines={}), "'baselines' lacks 'naive'"),
    (lambda m: m.update(baselines=None), "'baselines' lacks 'naive'"),
    (lambda m: m["baselines"]["naive"].update(mape="x"), "'baselines' is {'naive'"),
    (lambda m: m["baselines"]["naive"].pop("mape"), "'baselines.naive.mape' is missing"),
    (lambda m: m["metrics"].update(mape=[]), "'metrics' is {"),
])
def test_an_edited_manifest_that_info_would_show_is_refused_naming_the_field(model, original, change, needle):
    edit_manifest(model, change)
    assert_refused(invoke(["info", "--model", model]), needle)
    assert_refused(predict(model, original), needle)


def test_a_checkpoint_state_holding_a_5000_digit_integer_is_refused(tmp_path):
    from forecast_cli.errors import ArtifactError
    from forecast_cli.nn.spec import ModelSpec
    from forecast_cli.store import checkpoint

    (tmp_path / "m.checkpoint").mkdir()
    (tmp_path / "m.checkpoint" / "state.json").write_text('{"format": ' + "1" * 5000 + "}")
    with pytest.raises(ArtifactError, match="the checkpoint cannot be used"):
        checkpoint.load(tmp_path / "m", {}, ModelSpec(n_features=1, horizon=1))


def test_a_manifest_holding_a_5000_digit_integer_is_refused(model):
    text = (model / "manifest.json").read_text().replace('"rows": ', '"rows": ' + "1" * 5000 + ', "was": ', 1)
    (model / "manifest.json").write_text(text)
    assert_refused(invoke(["info", "--model", model]), "manifest.json", "not valid JSON")
