"""`model.safetensors` as bytes: how large it may be for the model a manifest describes, and its header
held to that model before safetensors makes a single tensor.

safetensors trusts a file's header for what it allocates; here the header (a u64 length, then JSON
naming each tensor's dtype, shape and byte range) is parsed by hand, within a bound, and its names,
shapes and dtypes compared with nn/spec.py's table (the check and wording forward.check_weights uses
on tensors), its byte ranges with the file's length. Imports neither torch nor safetensors.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from forecast_cli.errors import ArtifactError
from forecast_cli.nn.spec import check_layout

MIB = 2**20
HEADER_LIMIT = MIB  # the JSON header: a few hundred tensors' names, dtypes, shapes and offsets
LENGTH_FIELD = 8  # the header's length, a little-endian u64
WIDEST_FLOAT = 8  # bytes per value of float64, the widest dtype the weight checks accept
# safetensors' dtype codes -> the names check_layout knows, and bytes per value where it accepts them.
DTYPE_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32",
               "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8",
               "BOOL": "bool", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
FLOAT_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def byte_limit(expected: dict[str, tuple[int, ...]]) -> int:
    """The most bytes a weights file of these tensors can take: the length field, the header's bound,
    and every value in the widest accepted float type."""
    return LENGTH_FIELD + HEADER_LIMIT + WIDEST_FLOAT * sum(math.prod(shape) for shape in expected.values())


def check_header(data: bytes, expected: dict[str, tuple[int, ...]], where: Path) -> None:
    """Refuse a safetensors file whose header names other tensors, shapes or dtypes than `expected`, or
    whose byte ranges do not tile the data that follows it exactly (ArtifactError naming `where`)."""
    header = _header(data, where)
    declared = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not (isinstance(entry, dict) and isinstance(entry.get("dtype"), str) and _ints(entry.get("shape"))
                and _ints(entry.get("data_offsets")) and len(entry["data_offsets"]) == 2):
            raise damaged(where, f"header entry {name[:60]!r} is malformed")
        declared[name] = (tuple(entry["shape"]), DTYPE_NAMES.get(entry["dtype"], entry["dtype"][:20].lower()))
    check_layout(expected, declared, str(where))
    _check_ranges({name: header[name] for name in declared}, len(data) - LENGTH_FIELD - _length(data), where)


def _length(data: bytes) -> int:
    return struct.unpack("<Q", data[:LENGTH_FIELD])[0]


def _header(data: bytes, where: Path) -> dict:
    if len(data) < LENGTH_FIELD:
        raise damaged(where, "shorter than its header")
    length = _length(data)
    if length > HEADER_LIMIT or LENGTH_FIELD + length > len(data):
        raise damaged(where, f"a header of {length:,} bytes does not fit")
    try:
        header = json.loads(data[LENGTH_FIELD: LENGTH_FIELD + length].decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise damaged(where, "the header is not JSON") from None
    if not isinstance(header, dict):
        raise damaged(where, "the header is not a JSON object")
    return header


def _check_ranges(entries: dict[str, dict], available: int, where: Path) -> None:
    """Each tensor's bytes are exactly its shape in its dtype, and together they fill the data, in order."""
    end = 0
    for name, entry in sorted(entries.items(), key=lambda item: item[1]["data_offsets"]):
        begin, stop = entry["data_offsets"]
        size = math.prod(entry["shape"]) * FLOAT_BYTES[entry["dtype"]]
        if begin != end or stop - begin != size:
            raise damaged(where, f"tensor {name!r}'s byte range {begin}..{stop} is not its {size} bytes in place")
        end = stop
    if end != available:
        raise damaged(where, f"the tensors take {end:,} bytes but {available:,} follow the header")


def damaged(where: Path, detail: str) -> ArtifactError:
    return ArtifactError(f"{where}: damaged or truncated safetensors weights ({detail}); fit the model again.")


def _ints(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, int) and not isinstance(item, bool) and item >= 0
                                           for item in value)
