"""predict reads a file's tail, evaluate from the validation end: the same numbers as a whole read.

Files here are small, so the size below which files are read whole is lowered to 0; `tail_frame` is
watched to tell which reads went through the tail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast_cli
import forecast_cli.data.tail as tail
from forecast_cli.errors import DataError
from tests.conftest import run_cli

ROWS = 400
WINDOW = 12


def _frame(rows: int = ROWS) -> pd.DataFrame:
    steps = np.arange(rows)
    rng = np.random.default_rng(3)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
                         "sales": (50 + 10 * np.sin(steps / 5) + rng.normal(0, 0.5, rows)).round(3),
                         "temp": (20 + rng.normal(0, 1, rows)).round(2), "shop": "north"})


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    home = tmp_path_factory.mktemp("partial")
    frame = _frame()
    frame.to_csv(home / "train.csv", index=False)
    frame.drop(columns="date").to_csv(home / "steps.csv", index=False)
    timed = forecast_cli.fit(str(home / "train.csv"), "sales", features=["temp"], window=WINDOW, horizon=3,
                             hidden=4, epochs=1, out=home / "timed", warn=lambda m: None)
    steps = forecast_cli.fit(str(home / "steps.csv"), "sales", features=["temp"], time_col="none",
                             window=WINDOW, horizon=3, hidden=4, epochs=1, out=home / "steps", warn=lambda m: None)
    return home, timed, steps


@pytest.fixture
def tails(monkeypatch):
    """Every file goes through the tail read; returns the list of (rows, used) per tail_frame call."""
    monkeypatch.setattr(tail, "TAIL_MIN_BYTES", 0)
    calls = []
    original = tail.tail_frame

    def watched(*args, **kwargs):
        read = original(*args, **kwargs)
        calls.append(read is not None)
        return read

    monkeypatch.setattr("forecast_cli.loaded.tail_frame", watched)
    return calls


def _whole(monkeypatch, model, path):
    with monkeypatch.context() as patched:
        patched.setattr(tail, "TAIL_MIN_BYTES", 10 ** 15)
        return model.predict(str(path))


def _write(path, frame: pd.DataFrame, ending="\n", after="", quote=False) -> str:
    text = frame.to_csv(index=False, lineterminator=ending, quoting=1 if quote else 0) + after
    path.write_bytes(text.encode())
    return str(path)


def _variants(tmp_path):
    frame = _frame()
    gappy = frame.copy()
    gappy.loc[ROWS - 5, "temp"] = np.nan  # interpolated from neighbours inside the tail
    gappy.loc[ROWS - WINDOW - 60: ROWS - WINDOW - 40, "temp"] = np.nan  # blanks where the tail may start
    holes = frame.drop(index=[ROWS - 30, ROWS - 8])  # timestamps missing from the grid
    return {"plain": _write(tmp_path / "plain.csv", frame),
            "crlf": _write(tmp_path / "crlf.csv", frame, ending="\r\n"),
            "trailing blank lines": _write(tmp_path / "blank.csv", frame, after="\n\n\n"),
            "quoted fields": _write(tmp_path / "quoted.csv", frame, quote=True),
            "gaps": _write(tmp_path / "gaps.csv", gappy),
            "missing timestamps": _write(tmp_path / "holes.csv", holes)}


def test_predict_from_the_tail_gives_the_whole_reads_forecast(models, tails, monkeypatch, tmp_path):
    _, timed, _ = models
    for kind, path in _variants(tmp_path).items():
        tails.clear()
        forecast = timed.predict(path)
        assert tails == [True], kind
        pd.testing.assert_frame_equal(forecast, _whole(monkeypatch, timed, path), obj=kind)


def test_predict_without_a_time_column_reads_the_tail_too(models, tails, monkeypatch, tmp_path):
    _, _, steps = models
    path = _write(tmp_path / "steps.csv", _frame().drop(columns="date"))
    forecast = steps.predict(path)
    assert tails == [True]
    pd.testing.assert_frame_equal(forecast, _whole(monkeypatch, steps, path))


@pytest.mark.parametrize("kind", ["quoted line break", "newest first", "shuffled", "short file", "bad last row"])
def test_a_tail_that_cannot_be_told_apart_is_read_whole(models, tails, monkeypatch, tmp_path, kind):
    _, timed, _ = models
    frame = _frame()
    if kind == "quoted line break":
        frame.loc[ROWS - 3, "shop"] = "north\nside"
    elif kind == "newest first":
        frame = frame.iloc[::-1]
    elif kind == "shuffled":
        frame = frame.sample(frac=1.0, random_state=0)
    elif kind == "short file":
        frame = frame.tail(WINDOW + 2)
    else:
        frame["temp"] = frame["temp"].astype(str)
        frame.loc[ROWS - 2, "temp"] = "abc"
    path = _write(tmp_path / "data.csv", frame)
    if kind == "bad last row":
        with pytest.raises(DataError, match="line 400 holds 'abc'"):
            timed.predict(path)
        return
    forecast = timed.predict(path)
    assert tails == [False]
    pd.testing.assert_frame_equal(forecast, _whole(monkeypatch, timed, path))


def test_predict_from_stdin_reads_it_whole(models, tails):
    home, _, _ = models
    result = run_cli("predict", "--model", home / "timed", "-", input=(home / "train.csv").read_text())
    assert result.exit_code == 0, result.output
    assert tails == [False]
    assert "2021-02-04" in result.stdout  # the day after the last row


def _whole_scores(monkeypatch, model, path):
    with monkeypatch.context() as patched:
        patched.setattr(tail, "TAIL_MIN_BYTES", 10 ** 15)
        return model.evaluate(str(path))


def test_evaluate_from_the_validation_end_gives_the_whole_reads_scores(models, tails, monkeypatch, tmp_path):
    home, timed, _ = models
    longer = _frame(ROWS + 40)  # rows appended after fit: scored too
    paths = {"training file": str(home / "train.csv"), **_variants(tmp_path),
             "appended rows": _write(tmp_path / "longer.csv", longer)}
    for kind, path in paths.items():
        tails.clear()
        scores = timed.evaluate(path)
        assert tails == [True], kind
        assert scores == _whole_scores(monkeypatch, timed, path), kind
        assert scores["windows"] > 0


def test_evaluate_without_a_time_column_or_on_newer_data_reads_whole(models, tails, monkeypatch, tmp_path):
    home, timed, steps = models
    assert steps.evaluate(str(home / "steps.csv")) == _whole_scores(monkeypatch, steps, home / "steps.csv")
    newer = _frame(ROWS + 200).iloc[ROWS:]  # wholly after the validation end: every origin scored
    path = _write(tmp_path / "newer.csv", newer)
    assert timed.evaluate(path) == _whole_scores(monkeypatch, timed, path)
    assert tails[-1] is False


def test_a_tail_reads_fingerprint_is_the_whole_files(monkeypatch, tmp_path):
    from forecast_cli.data.io import read_table

    monkeypatch.setattr(tail, "TAIL_MIN_BYTES", 0)
    path = _write(tmp_path / "plain.csv", _frame(), ending="\r\n")
    found = tail.read_tail(path, 20)
    assert found is not None and len(found.table.raw) >= 20
    assert found.table.sha256 == read_table(path).sha256
