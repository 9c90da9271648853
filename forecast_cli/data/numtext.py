"""Numbers written as text with thousands separators or decimal commas -> floats, when unambiguous.

A column is judged as a whole, from the styles its values can be read in:
- `1,234.5` or `12,345,678`: thousands commas (a point, if any, is the decimal mark);
- `1,5`, `1234,56` or `1.234,5`: a decimal comma (points, if any, group thousands);
- `1,234` alone fits both (1234 or 1.234): a column whose commas all look like that is ambiguous and
  refused, as is a column mixing the two styles. Plain numbers (`12`, `3.5`, `1e6`) fit either.
Never imports torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
THOUSANDS_COMMAS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
DECIMAL_COMMA = re.compile(r"[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+")
POINT_GROUPS = re.compile(r"[+-]?\d{1,3}(\.\d{3}){2,}")  # 1.234.567: only a thousands separator
EITHER = re.compile(r"[+-]?\d{1,3},\d{3}")  # 1,234: thousands comma or decimal comma?
POINT_DECIMAL = re.compile(r"[+-]?\d*\.(\d{1,2}|\d{4,})")  # a point that cannot be a thousands separator


@dataclass(frozen=True)
class TextNumbers:
    """What a text column holds: floats when it can be read unambiguously, else why not."""

    values: pd.Series | None  # float64, blanks as NaN; None when the column cannot be read
    style: str | None = None  # "thousands commas" or "decimal commas" when converted
    problem: str | None = None  # one clause for an error message, with an example value


def read_text_numbers(series: pd.Series) -> TextNumbers:
    """Read a column of text as numbers in one consistent style, or say why that is not possible."""
    text = series.dropna().astype(str).str.strip()
    distinct = pd.Series(text[text != ""].unique(), dtype="object")
    if distinct.empty or not distinct.map(is_number_text).all():
        return TextNumbers(None)
    comma_style = distinct.map(lambda v: bool(THOUSANDS_COMMAS.fullmatch(v) and not EITHER.fullmatch(v)))
    decimal_style = distinct.map(lambda v: bool((DECIMAL_COMMA.fullmatch(v) or POINT_GROUPS.fullmatch(v))
                                                and not EITHER.fullmatch(v)))
    point_decimals = distinct.map(lambda v: bool(POINT_DECIMAL.fullmatch(v)))
    comma_style, decimal_style, point_decimals = (m.astype(bool) for m in (comma_style, decimal_style, point_decimals))
    if comma_style.any() and decimal_style.any():
        return TextNumbers(None, problem=f"mixes thousands commas ({distinct[comma_style].iloc[0]!r}) with "
                                         f"decimal commas ({distinct[decimal_style].iloc[0]!r})")
    if decimal_style.any() and point_decimals.any():
        return TextNumbers(None, problem=f"mixes decimal commas ({distinct[decimal_style].iloc[0]!r}) with "
                                         f"decimal points ({distinct[point_decimals].iloc[0]!r})")
    if comma_style.any() or (point_decimals.any() and distinct.map(_has_comma).any()):
        return TextNumbers(_convert(series, thousands=",", decimal="."), style="thousands commas")
    if decimal_style.any():
        return TextNumbers(_convert(series, thousands=".", decimal=","), style="decimal commas")
    if distinct.map(_has_comma).any():
        example = distinct[distinct.map(_has_comma)].iloc[0]
        return TextNumbers(None, problem=f"holds {example!r}, which could mean {example.replace(',', '')} "
                                         f"(thousands comma) or {example.replace(',', '.')} (decimal comma)")
    return TextNumbers(pd.to_numeric(series, errors="coerce").astype("float64"))


def is_number_text(value: str) -> bool:
    """Whether `value` reads as a number in some style (plain, thousands commas, decimal comma)."""
    return bool(PLAIN.fullmatch(value) or THOUSANDS_COMMAS.fullmatch(value) or DECIMAL_COMMA.fullmatch(value)
                or POINT_GROUPS.fullmatch(value))


def _has_comma(value: str) -> bool:
    return "," in value


def _convert(series: pd.Series, thousands: str, decimal: str) -> pd.Series:
    text = series.astype("string").str.strip().str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype("float64")
