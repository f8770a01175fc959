"""Report how many documentation blocks are not run, and why, at the end of the session."""

from __future__ import annotations

import pytest
from docs_snippets import DirectiveError, blocks, pages


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = []
    for page in pages():
        try:
            skipped += [b for b in blocks(page) if b.is_python and b.not_run is not None]
        except DirectiveError:
            continue  # the page's test reports it
    if not terminalreporter.stats or not any(
        "test_snippets" in getattr(report, "nodeid", "")
        for reports in terminalreporter.stats.values()
        for report in reports
    ):
        return
    terminalreporter.write_sep("-", f"documentation snippets not run: {len(skipped)}")
    for block in skipped:
        terminalreporter.write_line(f"{block.page}:{block.line}: {block.not_run}")
