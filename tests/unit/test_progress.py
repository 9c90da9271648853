"""cli/progress.py: a progress bar on stderr when it is a terminal; one plain line per epoch when it
is not (a cron log, a pipe); no callback at all when progress is not wanted (--quiet)."""

from __future__ import annotations

import io
import re
import sys

from forecast_cli.cli.progress import epoch_reporter
from forecast_cli.nn.train import EpochStats

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def use_terminal(monkeypatch) -> Terminal:
    """Make stderr a terminal; called in the test body, since pytest resets sys.stderr after fixtures run."""
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("TTY_INTERACTIVE", "TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return stream


def test_off_a_terminal_each_epoch_is_one_plain_line_without_escape_codes(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with epoch_reporter(5, enabled=True) as on_epoch_end:
        on_epoch_end(EpochStats(epoch=1, train_loss=0.5, val_loss=None, seconds=0.25))
        on_epoch_end(EpochStats(epoch=2, train_loss=0.375, val_loss=0.125, seconds=0.5))
    assert pipe.getvalue() == ("epoch 1/5: train loss 0.5, 0.2s\n"
                               "epoch 2/5: train loss 0.375, val loss 0.125, 0.5s\n")


def test_no_callback_and_nothing_written_when_disabled_on_a_terminal(monkeypatch):
    terminal = use_terminal(monkeypatch)
    with epoch_reporter(5, enabled=False) as on_epoch_end:
        assert on_epoch_end is None
    assert terminal.getvalue() == ""


def test_on_a_terminal_the_callback_moves_the_bar_to_the_epoch_with_its_losses(monkeypatch):
    terminal = use_terminal(monkeypatch)
    with epoch_reporter(3, enabled=True) as on_epoch_end:
        assert callable(on_epoch_end)
        on_epoch_end(EpochStats(epoch=1, train_loss=0.5, val_loss=None, seconds=0.1))
        on_epoch_end(EpochStats(epoch=2, train_loss=0.375, val_loss=0.125, seconds=0.1))
    shown = ANSI.sub("", terminal.getvalue())
    assert "epoch 2/3" in shown
    assert "train 0.3750 val 0.1250" in shown


def test_without_validation_the_bar_shows_the_training_loss_only(monkeypatch):
    terminal = use_terminal(monkeypatch)
    with epoch_reporter(2, enabled=True) as on_epoch_end:
        on_epoch_end(EpochStats(epoch=1, train_loss=0.25, val_loss=None, seconds=0.1))
    shown = ANSI.sub("", terminal.getvalue())
    assert "epoch 1/2" in shown and "train 0.2500" in shown
    assert "val" not in shown
