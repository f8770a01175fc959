"""The aligned tables of the ``payhub`` command end no line with spaces, even when the
last column (the flags of ``payhub payments``) is empty in every row."""

from __future__ import annotations

from payhub_core.cli._render import table


def test_no_line_of_a_table_ends_with_spaces() -> None:
    text = table(["invoice", "status", ""], [["INV-1", "paid", ""], ["INV-22", "pending", ""]])
    assert text.splitlines()[1] == "-------  -------"
    assert all(line == line.rstrip() for line in text.splitlines())


def test_columns_line_up_under_their_headers() -> None:
    text = table(["invoice", "flags"], [["INV-1", "PAID TWICE"]])
    header, rule, row = text.splitlines()
    assert header.index("flags") == rule.index("  -") + 2 == row.index("PAID TWICE")
