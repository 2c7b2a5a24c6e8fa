"""Every CSV the project hands out is written here, so that no cell reaches a spreadsheet as a formula.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, after a leading tab or carriage
return) as a formula: a player name like `=HYPERLINK("http://x","y")` from the feed would become a link or a
command in the operator's sheet. The OWASP rule: such a text cell is written with a leading `'`, which the
spreadsheet shows as text. The rule is decided by the value's type, not its look: int, Decimal and float values
are numbers and are written unchanged (a negative amount stays a number), while every str is text, so a name
"-5" is neutralised too (it came from a person, not from arithmetic). Decimals are written in plain notation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """One cell as it is written: numbers (and booleans) unchanged, None empty, anything else as neutral text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never `1E+3`: a spreadsheet or a reader parses it back as the same number
    if isinstance(value, int | float):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_row(row: Iterable[object]) -> list[object]:
    return [csv_cell(value) for value in row]


class _Line:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The rows as CSV lines, one at a time (for a streaming response)."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow(csv_row(row))


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as one CSV document."""
    out = io.StringIO()
    csv.writer(out).writerows(csv_row(row) for row in rows)
    return out.getvalue()
