"""`--norm auto` settled by training: where the training part has a season and there is a validation part,
the network is trained under both normalizations (offsets from the window's last value, and from the
value one season earlier) and the one with the lower validation loss is kept.

Why train both rather than judge by the baselines alone (recipe.py's first guess, which is the model
trained first): an untrained model is its norm's baseline, but training moves it, and with the calendar
inputs the window norm learns a yearly or weekly cycle too. On bench/accuracy.py's seasonal series (39
fits, each trained under both norms) the lower validation loss picked the norm with the lower test MASE on
32; on nottem at h=12 window gave 0.347 against seasonal's 0.431, on ukdriverdeaths at h=1 0.606 against
1.019 (the seat-belt law's drop lies in the test part: a year-old anchor lags it), while usaccdeaths (72
rows) kept seasonal, 0.442 against window's 0.936.
It costs a second training where a season is found (never one with a longer window: preparing.norm_rival);
`--norm window` or `--norm seasonal` trains one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from forecast_cli.errors import Interrupted
from forecast_cli.notes import Info


def best_validation_loss(trained) -> float | None:
    """The lowest validation loss of a training run (None without a validation part)."""
    losses = [stats.val_loss for stats in trained.history if stats.val_loss is not None]
    return min(losses) if losses else None


def keep_better(prepared, model, trained, rival, should_stop: Callable[[], bool] | None,
                warn: Callable[[str], None], unchanged: str):
    """Train `rival` (the data under the other norm, preparing.norm_rival) as `prepared`'s model was
    trained, and return (prepared, model, trained) of the one with the lower validation loss, its
    choice and both losses recorded in the recipe's choices (the manifest's `choices`)."""
    from forecast_cli.nn.model import Forecaster
    from forecast_cli.nn.train import seed_everything, start_levels, train_model

    first_norm, other_norm = prepared.configs.data.norm, rival.configs.data.norm
    warn(Info(f"--norm auto: training under --norm {other_norm} too, to keep the norm with the lower "
              "validation loss (give --norm to train one)"))
    train = prepared.configs.train
    seed_everything(train.seed)
    rival_model = Forecaster(rival.spec)
    start_levels(rival_model, rival.data)
    rival_trained = train_model(rival_model, rival.data, train, None, should_stop, None)
    if rival_trained.interrupted:
        raise Interrupted(f"interrupted: stopped in training under --norm {other_norm} (the comparison "
                          f"of norms is not checkpointed); {unchanged}.")
    losses = {first_norm: best_validation_loss(trained), other_norm: best_validation_loss(rival_trained)}
    rival_wins = losses[other_norm] is not None and (losses[first_norm] is None
                                                     or losses[other_norm] < losses[first_norm])
    kept, model, trained = (rival, rival_model, rival_trained) if rival_wins else (prepared, model, trained)
    norm = kept.configs.data.norm
    lost = other_norm if norm == first_norm else first_norm
    guess = prepared.recipe.choices.get("norm", {})
    record = {"chosen": norm, "part": "validation", "validation_loss": losses, "first_guess": first_norm,
              "reason": f"lower validation loss after training, {losses[norm]:.4g} vs {losses[lost]:.4g} "
                        f"under {lost}"}
    if "mase" in guess:
        record["baseline_mase"] = guess["mase"]
    choices = {**kept.recipe.choices, "norm": record}
    kept = replace(kept, recipe=replace(kept.recipe, choices=choices))
    return kept, model, trained
