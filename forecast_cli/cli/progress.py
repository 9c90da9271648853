"""Training progress on stderr: a rich bar on a terminal; without one (a cron log, a pipe) one plain
line per epoch; nothing with --quiet."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def epoch_reporter(epochs: int, enabled: bool) -> Iterator[Callable | None]:
    """Yield an `on_epoch_end` callback that advances a progress bar or prints a line, or None when silent."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        yield lambda stats: print(epoch_line(stats, epochs), file=sys.stderr, flush=True)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[losses]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("fit", total=epochs, losses="")

        def on_epoch_end(stats) -> None:
            val = f" val {stats.val_loss:.4f}" if stats.val_loss is not None else ""
            progress.update(task, completed=stats.epoch, losses=f"train {stats.train_loss:.4f}{val}")

        yield on_epoch_end


def epoch_line(stats, epochs: int) -> str:
    """`epoch 3/60: train loss 0.01234, val loss 0.02345, 0.4s` (no val part without a validation split)."""
    val = f", val loss {stats.val_loss:.4g}" if stats.val_loss is not None else ""
    return f"epoch {stats.epoch}/{epochs}: train loss {stats.train_loss:.4g}{val}, {stats.seconds:.1f}s"
