"""Training progress on stderr: a rich bar on a terminal, nothing in pipes or with --quiet."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def epoch_reporter(epochs: int, enabled: bool) -> Iterator[Callable | None]:
    """Yield an `on_epoch_end` callback that advances a progress bar, or None when not shown."""
    if not (enabled and sys.stderr.isatty()):
        yield None
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
