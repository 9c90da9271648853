"""What rebuilds a network before its weights are loaded: the sizes (`ModelSpec`) and the tensor
names and shapes they imply, in torch's layout. Imports neither torch nor pandas, so the manifest,
the NumPy engine and the weight checks share it without loading torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from forecast_cli.config import point_quantile
from forecast_cli.errors import ArtifactError, ConfigError

LINEAR_PREFIX = "baseline.linear."  # the linear baseline's tensors in model.safetensors, beside the model's
MEMBER_PREFIX = "ensemble.{}."  # ensemble member i >= 1's tensors (--ensemble N); member 0 has the model's own names
GATES = {"lstm": 4, "gru": 3}  # gate rows per hidden unit in torch's weight layout
FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")  # the value types weights may hold
# Every size is bounded by config.MAX_SIZES, but together they still allow a network of 5e10 weights
# (200 GB): no machine trains that, and a weights file that large is a planted one. 2**30 weights
# (4 GiB in float32) is far above any forecaster's need.
MAX_WEIGHTS = 2**30


@dataclass(frozen=True)
class ModelSpec:
    """The network's sizes: from the options (cell, hidden_size, ...) and the data (n_features, relative)."""

    n_features: int  # F
    horizon: int  # H
    cell: str = "lstm"  # "lstm", "gru", or "linear": one layer from the flattened window to the outputs
    hidden_size: int = 32  # D
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    relative: int = 0  # leading columns made relative to the window's last row; 0 = plain z-score
    decoder: str = "direct"  # "direct": one linear head for all H steps; "seq2seq": a decoder cell unrolled H steps
    task: str = "forecast"  # "classify": the head gives C class logits for the label H rows ahead
    n_classes: int = 0  # C, for task "classify"
    # Forking training: the spread of each relative column's row-to-row differences (R values). When set,
    # the relative columns enter as differences from the previous row divided by it (0 at the first row),
    # not relative to the window's last row: inputs that do not depend on the origin, so one encoder pass
    # over a chunk serves every origin in it. The forecast is still offsets from the last target value.
    differences: tuple[float, ...] = ()
    window: int = 0  # L: sets the "linear" cell's input width (L*F); the recurrent cells read any length
    quantiles: tuple[float, ...] = ()  # Q levels, sorted: each step forecasts Q values; () = one point per step
    # --norm seasonal: the forecast for step k is an offset from the target one season (S) before it,
    # the seasonal-naive forecast (seasonal_offsets), instead of from the last value; 0: the last value.
    season: int = 0
    # A linear "highway" from the window's (normalized) target column to the forecasts, added to the recurrent
    # head's output (zero at first, like the head): the model learns at least what the linear baseline
    # does, from the first step, while the head's gradient is still 0. Direct forecasting heads only.
    highway: bool = False
    # Many series (--id-col) with --id-embedding: every window carries one more, last, column, the series'
    # code (its position in series.safetensors' ids, as a float); the network splits it off and learns an
    # embedding of id_embedding values per series (n_series of them). n_series 0: no code column.
    n_series: int = 0
    id_embedding: int = 0

    @property
    def per_step(self) -> int:
        """Values forecast per horizon step: Q quantiles, or 1 point forecast."""
        return len(self.quantiles) or 1

    @property
    def point(self) -> int:
        """Which of a step's values is the point forecast: the level nearest 0.5 (0 without quantiles)."""
        return point_quantile(self.quantiles) if self.quantiles else 0

    @property
    def outputs(self) -> int:
        """Width of one forward pass's output: H*Q forecasts (step-major: step h's Q levels side by side,
        ascending), or C class logits."""
        return self.n_classes if self.task == "classify" else self.horizon * self.per_step

    def linear(self) -> "ModelSpec":
        """The linear baseline on the same inputs and normalization, one point forecast per step (MSE),
        fitted beside every forecaster."""
        return replace(self, cell="linear", hidden_size=1, num_layers=1, dropout=0.0, bidirectional=False,
                       decoder="direct", quantiles=(), highway=False, id_embedding=0)  # drops the code column

    @property
    def encoder_inputs(self) -> int:
        """Values the encoder reads per time step: the F inputs, then the series' embedding (E values)."""
        return self.n_features + self.id_embedding

    @property
    def anchor_offsets(self) -> list[int]:
        """Per forecast step, the window row (counted from the end, -1 the last) its forecast is an offset from."""
        return seasonal_offsets(self.horizon, self.season) if self.season else [-1] * self.horizon

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1


def seasonal_offsets(horizon: int, season: int) -> list[int]:
    """Step k's (0-based) seasonal-naive source, from the window's end: the target one season before it,
    or whole seasons before that for steps beyond the first season: k - S * (k // S + 1), in [-S, -1]."""
    return [step - season * (step // season + 1) for step in range(horizon)]


def check_size(spec: ModelSpec) -> None:
    """ConfigError when the network would hold more than MAX_WEIGHTS values (computed without allocating)."""
    count = sum(math.prod(shape) for shape in expected_shapes(spec).values())
    if count > MAX_WEIGHTS:
        raise ConfigError(f"--hidden {spec.hidden_size} with --layers {spec.num_layers} on {spec.n_features} input "
                          f"column(s) makes {count:,} weights, more than the {MAX_WEIGHTS:,} this tool supports; "
                          "choose smaller sizes.")


def check_layout(expected: dict[str, tuple[int, ...]], declared: dict[str, tuple[tuple[int, ...], str]],
                 where: str) -> None:
    """Refuse weights whose tensor names, shapes or value types (`declared`: name -> (shape, dtype name))
    differ from the model's: one check and one wording for a safetensors header, read before anything
    is allocated, and for tensors already in memory."""
    missing = sorted(set(expected) - set(declared))
    extra = sorted(set(declared) - set(expected))
    if missing or extra:
        problem = f"lack tensor {missing[0]!r}" if missing else f"hold an unknown tensor {extra[0]!r}"
        raise ArtifactError(f"{where}: {problem} for the manifest's model; the files do not belong together. "
                            "Fit the model again.")
    for name, shape in expected.items():
        seen, dtype = declared[name]
        if tuple(seen) != shape:
            raise ArtifactError(f"{where}: tensor {name!r} has shape {list(seen)} but the manifest's model "
                                f"needs {list(shape)}; the files do not belong together. Fit the model again.")
        if dtype not in FLOAT_TYPES:
            raise ArtifactError(f"{where}: tensor {name!r} holds {dtype}, not floating-point numbers; "
                                "fit the model again.")


def decoder_record(spec: ModelSpec) -> dict:
    """How the decoder was built and trained, for the manifest (the seq2seq choices are not in the weights)."""
    if spec.decoder != "seq2seq":
        return {"kind": "direct"}
    start = ("0, the offset of the last observed target value from itself" if spec.relative
             else "the last observed target value (z-score)")
    return {"kind": "seq2seq", "teacher_forcing": False,
            "training": "free-running: each step is fed the decoder's own previous output, in training as in use",
            "start_token": start, "bridge": "tanh(linear) for h, linear for c" if spec.bidirectional else None}


def expected_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Every weight the spec implies, with its shape, in torch's naming and layout (model.Forecaster's
    state_dict; a test pins the two together)."""
    embedding = {"embedding.weight": (spec.n_series, spec.id_embedding)} if spec.id_embedding else {}
    if spec.cell == "linear":
        return {"head.weight": (spec.outputs, spec.window * spec.n_features + spec.id_embedding),
                "head.bias": (spec.outputs,), **embedding}
    shapes = _recurrent_shapes("encoder.", spec.cell, spec.encoder_inputs, spec.hidden_size, spec.num_layers,
                               spec.bidirectional)
    shapes.update(embedding)
    width = spec.directions * spec.hidden_size
    if spec.task == "classify" or spec.decoder != "seq2seq":
        shapes.update({"head.weight": (spec.outputs, width), "head.bias": (spec.outputs,)})
        if spec.highway:
            shapes.update({"highway.weight": (spec.outputs, spec.window),
                           "highway.bias": (spec.outputs,)})
        return shapes
    shapes.update(_recurrent_shapes("decoder.cell.", spec.cell, 1, spec.hidden_size, spec.num_layers, False))
    shapes.update({"decoder.out.weight": (spec.per_step, spec.hidden_size), "decoder.out.bias": (spec.per_step,)})
    if spec.bidirectional:
        bridges = ["decoder.bridge", "decoder.bridge_cell"] if spec.cell == "lstm" else ["decoder.bridge"]
        for name in bridges:
            shapes.update({f"{name}.weight": (spec.hidden_size, width), f"{name}.bias": (spec.hidden_size,)})
    return shapes


def member_prefix(index: int) -> str:
    """The prefix of ensemble member `index`'s tensors: none for member 0 (so one model is saved as ever)."""
    return MEMBER_PREFIX.format(index) if index else ""


def ensemble_shapes(spec: ModelSpec, members: int) -> dict[str, tuple[int, ...]]:
    """Every weight of `members` copies of the spec's network: member 0 under the model's own names,
    member i under member_prefix(i)."""
    own = expected_shapes(spec)
    return {member_prefix(index) + name: shape for index in range(members) for name, shape in own.items()}


def _recurrent_shapes(prefix: str, cell: str, input_size: int, hidden_size: int, num_layers: int,
                      bidirectional: bool) -> dict[str, tuple[int, ...]]:
    """Shapes of a torch.nn.LSTM / GRU's parameters: layer 0 reads the input, later layers K*D."""
    rows = GATES[cell] * hidden_size
    directions = 2 if bidirectional else 1
    shapes = {}
    for layer in range(num_layers):
        width = input_size if layer == 0 else directions * hidden_size
        for suffix in ["", "_reverse"][:directions]:
            name = f"_l{layer}{suffix}"
            shapes.update({f"{prefix}weight_ih{name}": (rows, width), f"{prefix}weight_hh{name}": (rows, hidden_size),
                           f"{prefix}bias_ih{name}": (rows,), f"{prefix}bias_hh{name}": (rows,)})
    return shapes


SERIES_PREFIX = "series."  # --per-series: each series' model's tensors in model.safetensors, by its position


def series_prefix(position: int) -> str:
    return f"{SERIES_PREFIX}{position}."


def per_series_shapes(spec: ModelSpec, count: int) -> dict[str, tuple[int, ...]]:
    """Every tensor of `count` per-series models of shape `spec` (--per-series)."""
    own = expected_shapes(spec)
    return {series_prefix(position) + name: shape for position in range(count) for name, shape in own.items()}
