"""Adam as torch has it, minus the import of `torch._dynamo` (1.8-2.0 CPU-seconds on every fit).

torch wraps `Optimizer.add_param_group`, `zero_grad`, `state_dict`, `load_state_dict` and Adam's `step`
so that torch.compile leaves them alone; the first call of each wrapper imports torch._dynamo to say
so. This tool never compiles, so the wrappers are skipped: the same Adam arithmetic runs (a test pins
the weights to torch.optim.Adam's bit for bit). Where a torch version lays its wrappers out otherwise,
nothing is skipped and plain torch.optim.Adam runs, only slower to start.
"""

from __future__ import annotations

import torch
import torch._compile

_ADAM_STEP = getattr(torch.optim.Adam.step, "__wrapped__", None)  # the arithmetic inside the grad-mode wrapper


def adam(params, lr: float, weight_decay: float) -> torch.optim.Adam:
    """torch.optim.Adam with these settings, built and stepped without importing torch._dynamo."""
    for cls in (torch.optim.Optimizer, torch.optim.Adam):
        for method in vars(cls).values():
            _skip_dynamo_wrapper(method)
    if _ADAM_STEP is None:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return EagerAdam(params, lr=lr, weight_decay=weight_decay)


class EagerAdam(torch.optim.Adam):
    """Adam whose step runs under no_grad directly, as torch's own wrapper does for a non-differentiable
    optimizer, without that wrapper's torch.compile graph break (which imports torch._dynamo)."""

    @torch.no_grad()
    def step(self, closure=None):
        return _ADAM_STEP(self, closure)


def _skip_dynamo_wrapper(method) -> None:
    """For a function made by torch._disable_dynamo, fill the cache its wrapper would fill on first call
    (by importing torch._dynamo) with the undecorated function, so the wrapper calls that directly."""
    code = getattr(method, "__code__", None)
    if code is None or code.co_name != "inner" or code.co_filename != torch._compile.__file__:
        return
    if "fn" not in code.co_freevars:
        return
    original = method.__closure__[code.co_freevars.index("fn")].cell_contents
    if getattr(original, "__dynamo_disable", None) is None:
        original.__dynamo_disable = original
