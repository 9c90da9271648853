"""cli/signals: a signal interrupts at once, except where the work polls for it (training, the save)."""

import os
import signal

import pytest

from forecast_cli.cli.signals import stop_requested


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_outside_the_safe_points_interrupts_at_once(signum):
    with stop_requested() as should_stop:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            signal.sigtimedwait([], 0)  # give the handler its turn (it runs between bytecodes)
    assert should_stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_inside_the_safe_points_the_first_signal_waits_for_the_poll_and_the_second_interrupts(signum):
    with stop_requested() as should_stop, should_stop.at_safe_points():
        assert not should_stop()
        os.kill(os.getpid(), signum)
        assert should_stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            signal.sigtimedwait([], 0)


def test_leaving_the_safe_points_interrupts_at_once_again():
    with stop_requested() as should_stop:
        with should_stop.at_safe_points():
            pass
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)


def test_the_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with stop_requested():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
