"""`model.safetensors` as bytes: how large it may be for the model a manifest describes.

Imports neither torch nor safetensors; the sizes come from nn/spec.py's table of weight shapes.
"""

from __future__ import annotations

import math

MIB = 2**20
HEADER_LIMIT = MIB  # the JSON header: a few hundred tensors' names, dtypes, shapes and offsets
WIDEST_FLOAT = 8  # bytes per value of float64, the widest dtype the weight checks accept


def byte_limit(expected: dict[str, tuple[int, ...]]) -> int:
    """The most bytes a weights file of these tensors can take: the length field, the header's bound,
    and every value in the widest accepted float type."""
    return 8 + HEADER_LIMIT + WIDEST_FLOAT * sum(math.prod(shape) for shape in expected.values())
