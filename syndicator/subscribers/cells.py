"""Spreadsheet-safe CSV cells (OWASP CSV injection): what export writes and import reads."""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def to_sheet(value: str) -> str:
    """Prefix a quote where a spreadsheet would see a formula; a value that already starts
    with a quote before such a character gets one more, so from_sheet gives it back exactly."""
    if value.startswith(_FORMULA_START) or (
            value.startswith(_QUOTE) and value[1:2] in (*_FORMULA_START, _QUOTE)
            and len(value) > 1):
        return _QUOTE + value
    return value


def from_sheet(value: str) -> str:
    """The value to_sheet was given (a cell typed by hand without the quote passes as is)."""
    if value.startswith(_QUOTE) and len(value) > 1 and value[1] in (*_FORMULA_START, _QUOTE):
        return value[1:]
    return value
