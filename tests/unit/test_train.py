"""nn/train.py: which weights come back, when training stops, and how it reports and resumes.

The series is built so that validation gets worse while training gets better: inputs are noise,
the training part's target is 1 and the validation part's 0.5. The output climbs from about 0
towards 1, so the validation loss falls until the output passes 0.5 and rises after: the best
epoch lies strictly inside the run, which is what lets "best, not last" be told apart.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from forecast_cli.config import TrainConfig
from forecast_cli.errors import ConfigError
from forecast_cli.nn.model import Forecaster
from forecast_cli.nn.spec import ModelSpec
from forecast_cli.nn.train import (ChunkSource, TrainingData, WindowSource, evaluate_loss, resolve_device, sample_losses,
                                   train_model)

ROWS, TRAIN_ROWS, WINDOW, HORIZON = 60, 40, 4, 1
EPOCHS = 8


def drifting_data(features: int = 1) -> TrainingData:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 0.1, (ROWS, features)).astype("float32")  # (T, F)
    target = np.ones(ROWS, dtype="float32")  # (T,)
    target[TRAIN_ROWS:] = 0.5
    return TrainingData(values, target, np.arange(WINDOW, TRAIN_ROWS - HORIZON + 1),
                        np.arange(TRAIN_ROWS, ROWS - HORIZON + 1), WINDOW, HORIZON)


def fresh_model(seed: int = 0, **spec) -> Forecaster:
    torch.manual_seed(seed)
    return Forecaster(ModelSpec(n_features=1, horizon=HORIZON, hidden_size=4, **spec))


def config(**changes) -> TrainConfig:
    options = dict(epochs=EPOCHS, batch_size=8, lr=0.01, patience=100, device="cpu", seed=0)
    return TrainConfig(**{**options, **changes})


def copy_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def same_weights(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[key], second[key]) for key in first)


def test_best_epoch_weights_are_returned_and_left_in_the_model():
    model = fresh_model()
    at_epoch_end = {}
    result = train_model(model, drifting_data(), config(),
                         on_epoch_end=lambda stats: at_epoch_end.update({stats.epoch: copy_state(model)}))
    val_losses = [stats.val_loss for stats in result.history]
    assert result.best_epoch == 1 + int(np.argmin(val_losses))
    assert 1 < result.best_epoch < EPOCHS  # the set-up itself: the best epoch is neither the first nor the last
    assert same_weights(result.state_dict, at_epoch_end[result.best_epoch])
    assert not same_weights(result.state_dict, at_epoch_end[EPOCHS])
    assert same_weights(copy_state(model), result.state_dict)
    assert not result.stopped_early and result.interrupted is None


def test_with_ema_validation_scores_and_the_best_epoch_keeps_the_averaged_weights():
    model = fresh_model()
    raw = {}
    result = train_model(model, drifting_data(), config(ema=0.9),
                         on_epoch_end=lambda stats: raw.update({stats.epoch: copy_state(model)}))
    assert not same_weights(result.state_dict, raw[result.best_epoch])  # not the raw weights of that epoch
    scored = fresh_model()
    scored.load_state_dict(result.state_dict)
    validation = WindowSource(drifting_data(), drifting_data().val_origins, torch.device("cpu"))
    assert evaluate_loss(scored, validation) == pytest.approx(result.history[result.best_epoch - 1].val_loss, rel=1e-6)
    plain = train_model(fresh_model(), drifting_data(), config())
    assert [s.train_loss for s in plain.history] == [s.train_loss for s in result.history]  # training itself unchanged


def test_ema_outside_0_to_1_is_refused():
    for decay in (-0.1, 1.0, 1.5):
        with pytest.raises(ConfigError, match="--ema"):
            config(ema=decay).validate()


def test_every_epoch_is_reported_once_in_order_with_finite_losses():
    reported = []
    result = train_model(fresh_model(), drifting_data(), config(), on_epoch_end=reported.append)
    assert [stats.epoch for stats in reported] == list(range(1, EPOCHS + 1))
    assert reported == result.history
    assert all(math.isfinite(stats.train_loss) and math.isfinite(stats.val_loss) for stats in reported)


def test_training_stops_after_patience_epochs_without_improvement():
    best_epoch = train_model(fresh_model(), drifting_data(), config()).best_epoch
    patience = 2
    result = train_model(fresh_model(), drifting_data(), config(epochs=50, patience=patience))
    assert result.stopped_early
    assert len(result.history) == best_epoch + patience
    assert result.best_epoch == best_epoch


def test_patience_running_out_on_the_last_epoch_is_not_an_early_stop():
    best_epoch = train_model(fresh_model(), drifting_data(), config()).best_epoch
    result = train_model(fresh_model(), drifting_data(), config(patience=EPOCHS - best_epoch))
    assert len(result.history) == EPOCHS
    assert not result.stopped_early


def test_without_validation_origins_the_training_loss_picks_the_best_epoch():
    data = drifting_data()
    data.val_origins = np.arange(0)
    result = train_model(fresh_model(), data, config())
    assert all(stats.val_loss is None for stats in result.history)
    train_losses = [stats.train_loss for stats in result.history]
    assert result.best_epoch == 1 + int(np.argmin(train_losses))


def test_a_diverging_loss_is_a_config_error_naming_the_epoch_and_lr():
    lr = 1e30  # Adam steps of about lr: the weights, then the squared error, overflow float32
    with pytest.raises(ConfigError) as raised:
        train_model(fresh_model(), drifting_data(), config(lr=lr, clip_grad=0.0))
    message = str(raised.value)
    assert message.startswith("training diverged: the loss became ")
    assert "in epoch 1;" in message and f"lower --lr (now {lr})" in message


def test_should_stop_interrupts_after_the_batch_it_answers_and_returns_the_progress():
    data = drifting_data()
    polls = []

    def should_stop() -> bool:
        polls.append(None)
        return len(polls) >= 3

    result = train_model(fresh_model(), data, config(), should_stop=should_stop)
    progress = result.interrupted
    assert progress is not None
    assert (progress.epoch, progress.batches_done, progress.samples) == (1, 3, 3 * 8)
    assert progress.history == [] and result.history == []
    assert progress.model_state and progress.optimizer_state["state"]
    assert progress.order_rng is not None and progress.torch_rng is not None


def test_a_stop_at_the_end_of_an_epoch_returns_progress_at_the_next_epoch():
    batches_per_epoch = math.ceil(len(drifting_data().train_origins) / 8)
    polls = []

    def should_stop() -> bool:
        polls.append(None)
        return len(polls) >= batches_per_epoch  # the last batch's poll: the epoch is finished first

    result = train_model(fresh_model(), drifting_data(), config(), should_stop=should_stop)
    assert result.interrupted is not None
    assert (result.interrupted.epoch, result.interrupted.batches_done) == (2, 0)
    assert [stats.epoch for stats in result.history] == [1]


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_resuming_an_interrupted_run_ends_on_the_uninterrupted_weights(ema):
    """Two layers with dropout, so the dropout RNG must be restored as well as the batch order; with
    --ema the moving average too."""
    spec = dict(num_layers=2, dropout=0.3)
    whole = train_model(fresh_model(**spec), drifting_data(), config(ema=ema))
    polls = []

    def should_stop() -> bool:
        polls.append(None)
        return len(polls) == 7  # inside epoch 2

    stopped = train_model(fresh_model(**spec), drifting_data(), config(ema=ema), should_stop=should_stop)
    assert stopped.interrupted is not None and stopped.interrupted.epoch == 2
    resumed_model = fresh_model(seed=99, **spec)  # other initial weights: the checkpoint must override them
    resumed = train_model(resumed_model, drifting_data(), config(ema=ema), resume=stopped.interrupted)
    assert same_weights(resumed.state_dict, whole.state_dict)
    assert [(s.epoch, s.train_loss, s.val_loss) for s in resumed.history] == [
        (s.epoch, s.train_loss, s.val_loss) for s in whole.history]


def test_the_same_seed_gives_identical_weights_and_another_seed_does_not():
    first = train_model(fresh_model(), drifting_data(), config(seed=3))
    second = train_model(fresh_model(), drifting_data(), config(seed=3))
    other = train_model(fresh_model(), drifting_data(), config(seed=4))
    assert same_weights(first.state_dict, second.state_dict)
    assert not same_weights(first.state_dict, other.state_dict)


def _gradient_norms_at_each_step(clip_grad: float) -> list[float]:
    norms = []

    def before_step(optimizer, args, kwargs) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))

    handle = register_optimizer_step_pre_hook(before_step)
    try:
        train_model(fresh_model(), drifting_data(), config(epochs=2, clip_grad=clip_grad))
    finally:
        handle.remove()
    return norms


def test_clip_grad_bounds_the_gradient_norm_of_every_step():
    limit = 0.01
    unclipped = _gradient_norms_at_each_step(0.0)
    assert max(unclipped) > 10 * limit  # without clipping the bound would be broken
    clipped = _gradient_norms_at_each_step(limit)
    assert len(clipped) == len(unclipped)
    assert max(clipped) <= limit * (1 + 1e-4)


def test_a_batch_pairs_the_window_before_each_origin_with_the_rows_from_it():
    values = np.arange(20, dtype="float32").reshape(10, 2)  # (T, F): row t holds 2t, 2t + 1
    target = np.arange(10, dtype="float32") * 10
    data = TrainingData(values, target, np.array([3, 5]), np.arange(0), window=3, horizon=2)
    x, y = WindowSource(data, data.train_origins, torch.device("cpu")).batch(torch.tensor([3, 5]))
    assert x.shape == (2, 3, 2) and y.shape == (2, 2)
    assert torch.equal(x[0], torch.from_numpy(values[0:3]))
    assert torch.equal(x[1], torch.from_numpy(values[2:5]))
    assert y.tolist() == [[30.0, 40.0], [50.0, 60.0]]


def test_forecast_loss_is_the_squared_error_averaged_over_the_horizon():
    output = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    target = torch.tensor([[1.0, 4.0], [3.0, 1.0]])
    assert sample_losses(output, target, classify=False).tolist() == [2.0, 5.0]


def test_classifier_loss_scores_the_label_of_the_last_target_row():
    logits = torch.tensor([[5.0, -5.0], [5.0, -5.0]])  # both windows confidently say class 0
    target = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # (B, H) class codes; the label is the last one
    losses = sample_losses(logits, target, classify=True)
    assert losses[0] < 0.01 < 5 < losses[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_an_absent_device_asked_for_by_name_is_refused():
    with pytest.raises(ConfigError, match=r"--device cuda was asked for but is not available here"):
        resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


# Forking-sequence chunks (--training forking): every origin trained once, targets from the right rows.
def _counting_data(rows: int, window: int, horizon: int) -> TrainingData:
    values = np.arange(rows, dtype=np.float32)[:, None]  # (T, 1): each row holds its own number
    return TrainingData(values, values[:, 0].copy(), np.arange(0), np.arange(0), window, horizon)


@pytest.mark.parametrize("first, last, chunk", [(10, 200, 40), (10, 49, 40), (10, 12, 40), (60, 200, 33)])
def test_chunks_cover_every_origin_once(first, last, chunk):
    window, horizon = 10, 3
    source = ChunkSource(_counting_data(last + horizon, window, horizon), np.arange(first, last + 1), chunk, torch.device("cpu"))
    origins = source.starts[:, None] + source.steps  # (K, P)
    covered = origins[source.mask].tolist()
    assert sorted(covered) == list(range(first, last + 1))
    assert int(source.starts.min()) == first - window  # the first origin still gets a full burn-in


def test_chunk_targets_are_the_rows_after_each_origin():
    window, horizon = 4, 2
    source = ChunkSource(_counting_data(40, window, horizon), np.arange(window, 38), 12, torch.device("cpu"))

    class LastValue(torch.nn.Module):
        """Forecasts the origin's last row: its loss is known for every origin (rows hold their index)."""

        def forward_chunk(self, x, burn_in):
            return x[:, burn_in - 1:, :1].expand(-1, -1, horizon)

    losses = source.losses(LastValue(), source.items)  # targets t, t+1 against forecast t-1: errors 1 and 2
    assert losses.shape == (38 - window,)
    torch.testing.assert_close(losses, torch.full_like(losses, (1 + 4) / 2))
