"""``feynman export --format csv`` defuses formulas: a learner's text must open as text in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from feynman.export import to_csv


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_a_text_cell_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    [row] = list(csv.DictReader(io.StringIO(to_csv([{"kind": "turn", "user_input": text}]))))
    assert row["user_input"] == "'" + text


def test_plain_text_numbers_and_lists_are_written_as_they_are() -> None:
    rows = [{"user_input": "Things fall. =not a formula", "score": -1.5, "hedges": ["-kind of"], "n": None}]
    [row] = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert row == {
        "user_input": "Things fall. =not a formula",
        "score": "-1.5",
        "hedges": '["-kind of"]',
        "n": "",
    }


def test_a_header_from_a_payload_field_is_escaped_too() -> None:
    text = to_csv([{"report.=cmd": "x"}, {"kind": "memory"}])
    header, first, second = list(csv.reader(io.StringIO(text)))
    assert header == ["report.=cmd", "kind"]  # starts with "r": nothing to escape
    assert (first, second) == (["x", ""], ["", "memory"])
    assert next(csv.reader(io.StringIO(to_csv([{"=x": 1}])))) == ["'=x"]
