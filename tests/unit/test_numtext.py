"""Text numbers: thousands commas and decimal commas are read only when the column leaves no doubt."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from forecast_cli.data.numtext import read_text_numbers


def read(values: list):
    return read_text_numbers(pd.Series(values, dtype="object"))


@pytest.mark.parametrize("values, expected, style", [
    (["1,234.5", "999", "12,345,678", "3.25", None, ""], [1234.5, 999, 12345678, 3.25, None, None], "thousands commas"),
    (["1,234,567", "1,234"], [1234567, 1234], "thousands commas"),
    (["1,234", "3.5"], [1234, 3.5], "thousands commas"),
    (["1,5", "12,25", "1.234,5", "-7"], [1.5, 12.25, 1234.5, -7], "decimal commas"),
    (["1,5", "1,234", "1.234"], [1.5, 1.234, 1234], "decimal commas"),
    (["1.234.567", "12"], [1234567, 12], "decimal commas"),
    ([" 1.5", "2 "], [1.5, 2], None),
])
def test_unambiguous_columns_are_read(values, expected, style):
    read_back = read(values)
    assert read_back.style == style and read_back.problem is None
    got = read_back.values.tolist()
    assert [None if math.isnan(v) else v for v in got] == expected


@pytest.mark.parametrize("values, problem", [
    (["1,234", "12,500", "999"], "could mean 1234 (thousands comma) or 1.234 (decimal comma)"),
    (["1,234.5", "1,5"], "mixes thousands commas ('1,234.5') with decimal commas ('1,5')"),
    (["1,5", "3.5"], "mixes decimal commas ('1,5') with decimal points ('3.5')"),
])
def test_ambiguous_or_mixed_columns_are_refused_with_an_example(values, problem):
    read_back = read(values)
    assert read_back.values is None and problem in read_back.problem


@pytest.mark.parametrize("values", [["1,5", "abc"], ["NW", "SE"], ["1 234,5"]])
def test_text_that_is_not_numbers_is_left_alone(values):
    read_back = read(values)
    assert read_back.values is None and read_back.problem is None
