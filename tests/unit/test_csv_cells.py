"""Spreadsheet-safe cells: formulas are neutralised on export and come back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicator.subscribers.cells import from_sheet, to_sheet


@pytest.mark.parametrize("value", ['=HYPERLINK("https://evil.example","Bấm")', "@SUM(A1:A9)",
                                   "+84 912", "-1", "\tx", "\rx", "'=x", "''", "'+"])
def test_a_cell_a_spreadsheet_would_run_starts_with_a_quote(value: str) -> None:
    safe = to_sheet(value)
    assert safe.startswith("'") and safe[1:] == value
    assert from_sheet(safe) == value


@pytest.mark.parametrize("value", ["Văn phòng UBND", "", "'", "'a", "a=b", "vp@ubnd.example"])
def test_harmless_cells_are_left_alone(value: str) -> None:
    assert to_sheet(value) == value == from_sheet(value)


@given(st.text(max_size=30))
def test_round_trip_is_exact(value: str) -> None:
    assert from_sheet(to_sheet(value)) == value
    assert not to_sheet(value).startswith(("=", "+", "-", "@", "\t", "\r"))
