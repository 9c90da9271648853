"""io.py: delimiter, BOM, quoted headers and line endings are sniffed; file-level problems are one-line errors."""

import io

import pandas as pd
import pytest

from forecast_cli.errors import DataError
from forecast_cli.data.io import read_table


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_bom_quoted_header_and_crlf_are_read(tmp_path, delimiter):
    lines = [f'"Month"{delimiter}"Passengers"', f'"1949-01"{delimiter}112', f'"1949-02"{delimiter}118']
    path = tmp_path / "air.csv"
    path.write_bytes(("\r\n".join(lines)).encode("utf-8-sig"))  # BOM, CRLF, no final newline
    table = read_table(str(path))
    assert list(table.raw.columns) == ["Month", "Passengers"]
    assert table.raw["Passengers"].tolist() == [112, 118]
    assert table.raw["Month"].tolist() == ["1949-01", "1949-02"]


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(DataError, match=r"^nothing\.csv: file not found; check the path\.$"):
        read_table("nothing.csv")


def test_empty_file_is_a_one_line_error(tmp_path):
    (tmp_path / "empty.csv").write_text("\n")
    with pytest.raises(DataError, match="the file is empty; it needs a header line and rows of data"):
        read_table(str(tmp_path / "empty.csv"))


def test_a_field_over_1_mib_is_refused_before_parsing(tmp_path):
    path = tmp_path / "runaway.csv"
    path.write_text("date,value\n2021-01-01,1\n" + "2021-01-02" * 200_000 + ",2\n2021-01-03,3\n")
    with pytest.raises(DataError) as raised:
        read_table(str(path))
    assert str(raised.value) == (
        f"{path}: line 3 holds a field of 2,000,000 characters in column 'date', over the 1 MiB (1,048,576 "
        "characters) a field may hold; a line break or closing quote is probably missing. Fix or remove that line.")


def test_a_wide_line_of_ordinary_fields_is_read(tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"column_{i}" for i in range(120_000)]  # a 1.4 MB header line, no field near 1 MiB
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(["1"] * len(names)) for _ in range(3)) + "\n")
    assert read_table(str(path)).raw.shape == (3, 120_000)


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_header_and_one_row_is_refused_with_the_rows_needed(tmp_path, ending):
    path = tmp_path / "one.csv"
    path.write_text(f"date,value{ending or chr(10)}2021-01-01,5{ending}", newline="")
    with pytest.raises(DataError) as raised:
        read_table(str(path))
    assert str(raised.value) == (
        f"{path}: has a header and only one row of data; fit needs at least 30 rows with --window 20 "
        "and --horizon 1 (never fewer than 2), predict at least the model's --window. Add rows.")


def test_one_row_spread_over_lines_by_a_quoted_field_is_refused_too(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('date,note,value\n2021-01-01,"a\nb\nc\nd",5\n')
    with pytest.raises(DataError, match="has a header and only one row of data"):
        read_table(str(path))


def _clean_series(rows: int = 30) -> str:
    return "date,value\n" + "".join(f"2021-03-{day:02d},{day * 1.5}\n" for day in range(1, rows + 1))


@pytest.mark.parametrize("junk", [b"\x1a", b"\r\n\x1a", b"\x1a\r\n", b"\x00" * 512, b"\x1a" + b"\x00" * 7])
def test_a_dos_end_of_file_mark_or_nul_padding_after_the_data_is_dropped(tmp_path, junk):
    clean = _clean_series()
    text = clean.rstrip("\n") if junk.startswith(b"\x1a") and junk != b"\x1a" else clean
    path = tmp_path / "dos.csv"
    path.write_bytes(text.encode() + junk)
    raw = read_table(str(path)).raw
    assert raw.equals(pd.read_csv(io.StringIO(clean)))


def test_utf16_with_a_dos_end_of_file_mark_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(_clean_series().encode("utf-16") + "\x1a".encode("utf-16-le") + b"\x00" * 3)
    assert read_table(str(path)).raw.equals(pd.read_csv(io.StringIO(_clean_series())))


@pytest.mark.parametrize("header, fields", [("date,y,y", "2 and 3"), ('"date";"y";" y "', "2 and 3"),
                                            ("y,date,value,y", "1 and 4")])
def test_a_column_named_twice_in_the_header_is_refused(tmp_path, header, fields):
    sep = ";" if ";" in header else ","
    rows = "".join(f"2021-03-{day:02d}{sep}{day}{sep}{day}" + (f"{sep}1" if header.count(sep) == 3 else "") + "\n"
                   for day in range(1, 30))
    path = tmp_path / "twice.csv"
    path.write_text("\n" + header + "\n" + rows)
    with pytest.raises(DataError) as raised:
        read_table(str(path))
    assert str(raised.value) == (f"{path}: the header (line 2) names column 'y' twice, as fields {fields}; "
                                 "rename one of them.")


def test_blank_column_names_may_repeat(tmp_path):
    path = tmp_path / "index.csv"
    path.write_text(",,value\n0,a,1\n1,b,2\n2,c,3\n")
    assert list(read_table(str(path)).raw.columns) == ["Unnamed: 0", "Unnamed: 1", "value"]


def test_bytes_without_trailing_junk_are_kept_as_they_are():
    from forecast_cli.data.io import strip_trailing_junk

    data = _clean_series().encode() + b"\r\n\r\n"
    assert strip_trailing_junk(data) is data  # no copy of a large file for nothing
    assert strip_trailing_junk(b"a,b\n1,2\n" + b"\x00" * 100_000) == b"a,b\n1,2\n"


@pytest.mark.parametrize("body, expected", [
    ('t, a, b\n1, x, "p, q"\n2, y, r\n3, z, s\n', {"a": ["x", "y", "z"], "b": ["p, q", "r", "s"]}),  # quoted after a space
    ("t,a,b\n1, x,2\n2,y,3\n3,z,4\n", {"a": ["x", "y", "z"], "b": [2, 3, 4]}),  # one text value after a space
    ("t,a,b\n1,1.5, 2\n2,2.5,3\n3, ,4\n", {"a": [1.5, 2.5, None], "b": [2, 3, 4]}),  # a blank of spaces in numbers
    (" t,a,b\n1,x,2\n2,y,3\n3,z,4\n", {"a": ["x", "y", "z"], "b": [2, 3, 4]}),  # a name after a space
])
def test_spaces_after_a_delimiter_are_skipped_as_they_always_were(tmp_path, body, expected):
    path = tmp_path / "spaces.csv"
    path.write_text(body)
    frame = read_table(str(path)).raw
    assert list(frame.columns) == ["t", "a", "b"]
    for column, values in expected.items():
        assert [None if pd.isna(v) else v for v in frame[column]] == values


def test_a_file_without_spaces_after_delimiters_reads_the_same_as_with_skipping(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("date,value,kind\n2020-01-01 00:00,1.5,a\n2020-01-01 01:00,-2,b\n2020-01-01 02:00,,c\n")
    read = read_table(str(path)).raw
    pd.testing.assert_frame_equal(read, pd.read_csv(path, skipinitialspace=True))
