"""Property: whatever text a CSV holds, `fit` ends in exit 0 or 2, never a traceback or an internal error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CELLS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e308", "-1e308", "1,234", "1,5", "1.234,5", '"1,234.5"',
                     "abc", '"', "2021-01-01", "01/02/2021", "2021-13-45", "0", "-0", " ", "\t", "é", "\x00"]),
    st.text(max_size=6),
)
HEADERS = st.lists(st.sampled_from(["date", "value", "load", "Value", "time", "year", "month", "", "date"]),
                   min_size=1, max_size=4)


@st.composite
def csv_texts(draw) -> str:
    """A trainable series with a few cells replaced, CSV-shaped rows of mixed cells, or any text."""
    kind = draw(st.sampled_from(["series", "series", "rows", "text"]))
    if kind == "text":
        return draw(st.text(max_size=200))
    separator = draw(st.sampled_from([",", ";", "\t", "|"]))
    if kind == "series":
        header = ["date", "value"]
        rows = [[f"2021-01-{1 + i:02d}", f"{(i * 7) % 11}.5"] for i in range(28)]
        for _ in range(draw(st.integers(0, 3))):
            rows[draw(st.integers(0, 27))][draw(st.integers(0, 1))] = draw(CELLS)
    else:
        header = draw(HEADERS)
        width = max(len(header) + draw(st.sampled_from([0, 0, 0, -1, 1])), 0)
        rows = draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=40))
    return "\n".join(separator.join(row) for row in [header, *rows])


@pytest.mark.slow  # 40 generated CSVs, each a fit
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=csv_texts())
def test_random_csv_text_never_makes_fit_crash(text):
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "random.csv"
        data.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        result = run_cli("fit", str(data), "--target", "value", "--out", str(Path(folder) / "m"),
                         "--epochs", "1", "--hidden", "4", "--window", "3", "--quiet")
        assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
        assert "Traceback" not in result.stderr
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert not (Path(folder) / "m").exists()
