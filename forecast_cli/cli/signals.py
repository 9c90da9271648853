"""SIGINT and SIGTERM during a command: stop promptly, at a safe point where there is one.

Outside `at_safe_points()` a signal interrupts at once (KeyboardInterrupt: reading a large CSV, building
the frame, the test backtest), since nothing is lost. Inside it (training, where the loop polls the
flag after every batch and then saves a checkpoint; the model's save) the first signal only sets the
flag and the work stops at its next poll; a second one raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Callable: whether SIGINT or SIGTERM arrived. `fitting` marks where it polls with at_safe_points()."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.deferring = False

    def __call__(self) -> bool:
        return bool(self.received)

    @contextlib.contextmanager
    def at_safe_points(self) -> Iterator[None]:
        """Inside the block the first signal waits for the work's next poll instead of interrupting it."""
        deferring, self.deferring = self.deferring, True
        try:
            yield
        finally:
            self.deferring = deferring

    def on_signal(self, signum: int, frame) -> None:
        self.received.append(signum)
        if len(self.received) > 1 or not self.deferring:
            raise KeyboardInterrupt


@contextlib.contextmanager
def stop_requested() -> Iterator[StopRequest]:
    """Yield a StopRequest that SIGINT and SIGTERM report to; the previous handlers are restored after."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield request
        return
    previous = {sig: signal.signal(sig, request.on_signal) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
