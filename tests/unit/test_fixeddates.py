"""Fixed-width timestamps read as bytes (data/fixeddates.py) give exactly what to_datetime gives, and
anything that is not exactly in the format is left to the general parser (None)."""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.fixeddates import read_fixed_width
from forecast_cli.data.timeindex import parse_time
from forecast_cli.errors import DataError

pytest.importorskip("pyarrow")  # the byte view is of pyarrow strings; other columns go to to_datetime
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%Y%m%d", "%m/%d/%Y",
           "%Y-%m-%d")


def arrow_text(values) -> pd.Series:
    return pd.Series(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def reference(text: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(text, format=fmt, errors="coerce")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_random_timestamps_read_as_to_datetime_reads_them(fmt, order):
    rng = np.random.default_rng(len(fmt))
    seconds = rng.integers(pd.Timestamp("1700-01-01").value // 10**9, pd.Timestamp("2250-12-31").value // 10**9, 20_000)
    stamps = pd.DatetimeIndex(pd.to_datetime(np.sort(seconds) if order == "sorted" else seconds, unit="s"))
    text = arrow_text(stamps.strftime(fmt))
    read = read_fixed_width(text, fmt)
    assert read is not None
    np.testing.assert_array_equal(read.as_unit("s").asi8, pd.DatetimeIndex(reference(text, fmt)).as_unit("s").asi8)


@pytest.mark.parametrize("value", ["2015-02-29 00:00", "2016-02-30 00:00", "2015-13-01 00:00", "2015-00-10 00:00",
                                   "2015-01-00 00:00", "2015-01-01 24:00", "2015-01-01 23:60", "2015-1-011 00:00",
                                   "2015-01-01 00:00x", " 2015-01-01 00:00", "2015/01/01 00:00", "2015-01-0é 00:00",
                                   "1600-01-01 00:00", "2015-01-01T00:00"])
def test_a_value_not_exactly_in_the_format_is_left_to_the_general_parser(value):
    text = arrow_text(["2016-02-29 23:59", value, "2016-03-01 00:00"])
    assert read_fixed_width(text, "%Y-%m-%d %H:%M") is None


@pytest.mark.parametrize("fmt", [None, "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S%z", "%d %b %Y", "%y-%m-%d",
                                 "%Y-%m", "%Y-%m-%d %I:%M %p", "%Y-%m-%d%"])
def test_formats_with_other_fields_are_left_to_the_general_parser(fmt):
    assert read_fixed_width(arrow_text(["2015-01-01 00:00:00"]), fmt) is None


def test_python_strings_and_blanks_are_left_to_the_general_parser():
    assert read_fixed_width(pd.Series(["2015-01-01", "2015-01-02"], dtype=object), "%Y-%m-%d") is None
    python_strings = pd.Series(["2015-01-01", "2015-01-02"], dtype=pd.StringDtype("python", na_value=np.nan))
    assert read_fixed_width(python_strings, "%Y-%m-%d") is None
    assert read_fixed_width(arrow_text(["2015-01-01", None]), "%Y-%m-%d") is None


def test_an_impossible_date_in_a_long_column_is_still_reported_by_its_line():
    values = pd.date_range("2015-01-01", periods=3000, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    values[2500] = "2015-02-30 04:00"
    with pytest.raises(DataError, match=r"line 2502 holds '2015-02-30 04:00'"):
        parse_time(pd.DataFrame({"t": arrow_text(values)}), ("t",), "data.csv")


def test_parse_time_gives_the_unit_and_values_to_datetime_gives():
    text = arrow_text(pd.date_range("2015-01-01", periods=500, freq="min").strftime("%Y-%m-%d %H:%M"))
    parsed = parse_time(pd.DataFrame({"t": text}), ("t",), "data.csv")
    expected = pd.DatetimeIndex(reference(text, "%Y-%m-%d %H:%M"))
    assert parsed.dtype == expected.dtype
    assert parsed.equals(expected)


def test_timestamps_parse_without_pyarrow_installed():
    # A plain `pip install .` has no pyarrow: pandas' strings are Python ones and must not reach for it.
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "import pandas as pd\n"
            "from forecast_cli.data.timeindex import parse_time\n"
            "text = pd.Series(pd.date_range('2015-01-01', periods=50, freq='h').strftime('%Y-%m-%d %H:%M'))\n"
            "print(parse_time(pd.DataFrame({'t': text}), ('t',), 'data.csv')[-1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2015-01-03 01:00:00"


@pytest.mark.parametrize("fmt", ["%Y-%m-%d %H:%M", "%Y%m%d"])
def test_values_across_chunks_and_blocks_read_as_to_datetime_reads_them(fmt, monkeypatch):
    # read_csv hands over many arrow chunks, and each is read in blocks of rows: runs of one date that
    # cross a chunk's or a block's edge must count once and right, and a bad value in a later block is still seen.
    import pyarrow as pa

    import forecast_cli.data.fixeddates as fixeddates

    monkeypatch.setattr(fixeddates, "BLOCK_ROWS", 7)
    values = pd.date_range("2015-12-31 20:00", periods=400, freq="37min").strftime(fmt).tolist()
    cuts = [0, 3, 3, 50, 51, 260, 400]  # an empty chunk and a one-row chunk among them
    chunked = pa.chunked_array([pa.array(values[a:b], pa.large_string()) for a, b in zip(cuts, cuts[1:])])
    text = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert len(chunked.chunks) == 6
    read = read_fixed_width(text, fmt)
    np.testing.assert_array_equal(read.as_unit("s").asi8, pd.DatetimeIndex(reference(text, fmt)).as_unit("s").asi8)
    values[333] = values[333][:-1] + "x"
    assert read_fixed_width(arrow_text(values), fmt) is None


def test_a_day_past_31_is_refused_even_where_it_would_share_a_date_number_with_its_neighbour():
    # (Y * 13 + m) * 32 + d is one number per date only while d <= 31: 2015-01-40 would count as 2015-02-08.
    assert read_fixed_width(arrow_text(["2015-02-07", "2015-02-08", "2015-01-40"]), "%Y-%m-%d") is None
