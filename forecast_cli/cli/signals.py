"""SIGINT and SIGTERM during a command: ask the work to stop at the next safe point instead of dying.

The first signal only sets a flag that training polls after every batch (then a checkpoint is
saved and the command exits 130); a second one raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_requested() -> Iterator[Callable[[], bool]]:
    """Yield a function that says whether SIGINT or SIGTERM arrived; handlers are restored after."""
    received: list[int] = []

    def on_signal(signum: int, frame) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield lambda: False
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield lambda: bool(received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
