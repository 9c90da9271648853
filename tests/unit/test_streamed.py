"""streamed.py: a large file streamed into read_csv reads exactly as the whole-bytes path reads it (the
same frame, fingerprint and error messages), and anything unusual falls back to that path."""

import hashlib

import pandas as pd
import pytest

from forecast_cli.data import io as csv_io
from forecast_cli.data import streamed
from forecast_cli.errors import DataError

ROWS = "".join(f"2021-01-{day:02d},{day * 1.5},{day % 3}\n" for day in range(1, 29))
PLAIN = ("date,value,code\n" + ROWS).encode()
NON_ASCII = ("datum,wert,kürzel\n" + "".join(f"2021-01-{d:02d},{d},€{'ä' * (d % 5)}\n" for d in range(1, 29))).encode()

STREAMED = {  # files the stream reads itself
    "plain": PLAIN,
    "crlf": PLAIN.replace(b"\n", b"\r\n"),
    "utf-8 byte-order mark": b"\xef\xbb\xbf" + PLAIN,
    "non-ASCII UTF-8": NON_ASCII,
    "NUL padding after the data": PLAIN + b"\x00" * 500,
    "a DOS end-of-file mark": PLAIN + b"\x1a",
    "no final line end": PLAIN.rstrip(b"\n"),
    "quoted fields": b'"date","value"\n' + b"".join(b'"2021-01-%02d","%d"\n' % (d, d) for d in range(1, 29)),
}
FALLS_BACK = {  # files the whole-bytes path must read (its result or message is the one given)
    "Latin-1": "date,value,note\n".encode() + "".join(f"2021-01-{d:02d},{d},café\n" for d in range(1, 29)).encode("latin-1"),
    "a field over 1 MiB": PLAIN + b"2021-02-01," + b"9" * (1024 * 1024 + 10) + b",1\n",
    "a ragged line": PLAIN + b"2021-02-01,1,2,3,4\n",
    "spaces after delimiters": b"date, value, note\n" + b"".join(b"2021-01-%02d, %d, a\n" % (d, d) for d in range(1, 29)),
    "a header and one row": b"date,value\n2021-01-01,1\n",
    "UTF-16": ("date,value\n" + "".join(f"2021-01-{d:02d},{d}\n" for d in range(1, 29))).encode("utf-16"),
}
REFUSED_FROM_THE_HEAD = {  # the stream refuses these itself, with the whole-bytes path's message
    "JSON": b'[{"date": "2021-01-01", "value": 1}' + b",\n{}" * 30 + b"]\n",
    "HTML": b"<html>\n" + b"<p>moved</p>\n" * 30,
    "a column named twice": b"date,value,value\n" + ROWS.encode(),
    "binary": b"date,value\n" + b"\x00\x01" * 40_000,
}


def _read(path, monkeypatch, stream: bool):
    """read_table's outcome with streaming on for every size (stream) or off: (frame, digest) or the error."""
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0 if stream else 1 << 62)
    try:
        table = csv_io.read_table(str(path))
    except DataError as exc:
        return str(exc)
    return table.raw, table.sha256


def _same(first, second) -> bool:
    if isinstance(first, str) or isinstance(second, str):
        return first == second
    return first[0].equals(second[0]) and list(first[0].dtypes) == list(second[0].dtypes) and first[1] == second[1]


@pytest.mark.parametrize("case", STREAMED)
def test_a_streamed_file_reads_as_the_whole_bytes_path_reads_it(tmp_path, monkeypatch, case):
    path = tmp_path / "data.csv"
    path.write_bytes(STREAMED[case])
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0)
    assert csv_io._read_streamed(str(path)) is not None  # streamed, not fallen back
    streamed_read, whole = _read(path, monkeypatch, True), _read(path, monkeypatch, False)
    assert _same(streamed_read, whole)
    assert streamed_read[1] == hashlib.sha256(STREAMED[case]).hexdigest()  # every byte, junk included


@pytest.mark.parametrize("case", FALLS_BACK)
def test_an_unusual_file_is_read_by_the_whole_bytes_path_with_its_result_or_message(tmp_path, monkeypatch, case):
    path = tmp_path / "data.csv"
    path.write_bytes(FALLS_BACK[case])
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0)
    assert csv_io._read_streamed(str(path)) is None
    assert _same(_read(path, monkeypatch, True), _read(path, monkeypatch, False))


@pytest.mark.parametrize("case", REFUSED_FROM_THE_HEAD)
def test_a_file_refused_from_its_head_gets_the_whole_bytes_message(tmp_path, monkeypatch, case):
    path = tmp_path / "data.csv"
    path.write_bytes(REFUSED_FROM_THE_HEAD[case])
    streamed_read, whole = _read(path, monkeypatch, True), _read(path, monkeypatch, False)
    assert isinstance(whole, str) and streamed_read == whole


def test_a_character_split_between_two_blocks_is_still_utf8(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_bytes(NON_ASCII)
    monkeypatch.setattr(streamed, "BLOCK", 7)  # blocks of 7 bytes cut the two- and three-byte characters
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0)
    table = csv_io._read_streamed(str(path))
    assert table is not None and table.raw.columns[2] == "kürzel"
    assert table.raw["wert"].tolist() == list(range(1, 29))


def test_invalid_utf8_after_valid_non_ascii_blocks_falls_back_to_latin1(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_bytes(NON_ASCII + "2021-02-01,1,é\n".encode("latin-1"))  # UTF-8, then one Latin-1 line
    monkeypatch.setattr(streamed, "BLOCK", 64)
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0)
    assert csv_io._read_streamed(str(path)) is None
    frame = csv_io.read_table(str(path)).raw
    assert frame.iloc[-1, 2] == "é"  # the whole file as Latin-1, as before streaming existed
    assert frame.columns[2] == "kÃ¼rzel"


def test_long_lines_under_the_limit_read_the_same_either_way(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_bytes(PLAIN + b"2021-02-01,1," + b"x" * (600 * 1024) + b"\n")  # over half a MiB: falls back
    monkeypatch.setattr(streamed, "STREAM_BYTES", 0)
    assert csv_io._read_streamed(str(path)) is None
    assert _same(_read(path, monkeypatch, True), _read(path, monkeypatch, False))
    assert len(_read(path, monkeypatch, True)[0].iloc[-1, 2]) == 600 * 1024


def test_a_small_file_is_not_streamed(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(PLAIN)
    assert csv_io._read_streamed(str(path)) is None  # under STREAM_BYTES: held whole, as it costs little
    assert isinstance(csv_io.read_table(str(path)).raw, pd.DataFrame)
