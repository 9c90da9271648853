"""io.py: delimiter, BOM, quoted headers and line endings are sniffed; file-level problems are one-line errors."""

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
