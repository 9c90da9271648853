"""cli/signals.py: at the work's safe points (training) the first SIGINT or SIGTERM only asks it to stop
and a second one interrupts at once; elsewhere (reading the data) the first interrupts at once; the
handlers in place before are back afterwards, whatever happened inside."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from forecast_cli.cli.signals import stop_requested


def previous_handler(signum, frame) -> None:
    raise AssertionError(f"the handler from before the block ran for signal {signum}")


def send_first(signum: int) -> None:
    """Signal this process where the signal must only set the flag; a KeyboardInterrupt escaping here
    would end the whole pytest session, so it is turned into this test's failure."""
    try:
        os.kill(os.getpid(), signum)
    except KeyboardInterrupt:
        pytest.fail(f"the first {signal.Signals(signum).name} raised KeyboardInterrupt instead of setting the flag")


@pytest.fixture
def installed():
    """A known handler for SIGINT and SIGTERM before the block, and the originals back after the test."""
    originals = {sig: signal.signal(sig, previous_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in originals.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_first_signal_only_sets_the_flag(installed, signum):
    with stop_requested() as should_stop, should_stop.at_safe_points():
        assert should_stop() is False
        send_first(signum)
        assert should_stop() is True
        assert should_stop() is True  # asking does not clear it


def test_a_second_signal_raises_keyboard_interrupt_at_once(installed):
    with stop_requested() as should_stop, should_stop.at_safe_points():
        send_first(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        assert should_stop() is True


def test_the_previous_handlers_are_restored_after_the_block(installed):
    with stop_requested():
        assert signal.getsignal(signal.SIGINT) is not previous_handler
        assert signal.getsignal(signal.SIGTERM) is not previous_handler
    assert signal.getsignal(signal.SIGINT) is previous_handler
    assert signal.getsignal(signal.SIGTERM) is previous_handler


def test_the_previous_handlers_are_restored_when_the_block_raises(installed):
    with pytest.raises(KeyboardInterrupt):
        with stop_requested() as request, request.at_safe_points():
            send_first(signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous_handler
    assert signal.getsignal(signal.SIGTERM) is previous_handler


def test_outside_the_safe_points_the_first_signal_interrupts_at_once(installed):
    with stop_requested() as should_stop:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
        assert should_stop() is True


def test_each_block_starts_without_a_stop_request(installed):
    with stop_requested() as request, request.at_safe_points():
        send_first(signal.SIGINT)
    with stop_requested() as should_stop:
        assert should_stop() is False


def test_outside_the_main_thread_it_never_asks_to_stop_and_leaves_the_handlers(installed):
    seen = {}

    def work() -> None:
        try:
            with stop_requested() as should_stop:
                seen["stop"] = should_stop()
        except BaseException as exc:  # signal.signal outside the main thread raises ValueError
            seen["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == {"stop": False}
    assert signal.getsignal(signal.SIGINT) is previous_handler
