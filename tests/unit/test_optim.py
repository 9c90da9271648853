"""nn/optim.py: the same Adam arithmetic as torch.optim.Adam, without importing torch._dynamo."""

import subprocess
import sys
from pathlib import Path

import torch

from forecast_cli.nn.optim import adam


def _train(make_optimizer, steps: int = 5) -> dict:
    torch.manual_seed(0)
    model = torch.nn.LSTM(3, 4)
    optimizer = make_optimizer(model.parameters())
    inputs = torch.randn(6, 2, 3)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = model(inputs)[0].pow(2).mean()
        loss.backward()
        optimizer.step()
    state = optimizer.state_dict()
    optimizer.load_state_dict(state)
    return {name: value.clone() for name, value in model.state_dict().items()}


def test_adam_without_dynamo_gives_torch_adams_weights_bit_for_bit():
    ours = _train(lambda params: adam(params, lr=0.01, weight_decay=0.001))
    theirs = _train(lambda params: torch.optim.Adam(params, lr=0.01, weight_decay=0.001))
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert not all(torch.equal(ours[name], _train(lambda p: adam(p, lr=0.01, weight_decay=0.0), 0)[name])
                   for name in ours)  # training moved the weights: the comparison above is not vacuous


def test_a_fit_never_imports_torch_dynamo():
    sine = Path(__file__).resolve().parents[2] / "sample_data" / "sine.csv"
    code = ("import sys, forecast_cli\n"
            f"forecast_cli.fit({str(sine)!r}, target='value', epochs=2, hidden=4, warn=lambda note: None)\n"
            "print('torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"
