"""Small pieces of the reports: nearest-rank percentiles, CSV cells a spreadsheet would run."""

from __future__ import annotations

from tresen.reports.api import _cell
from tresen.reports.metrics import percentile


def test_nearest_rank_percentiles() -> None:
    values = [50.0, 8.0, 15.0]
    assert percentile(values, 50) == 15.0
    assert percentile(values, 90) == 50.0
    assert percentile(values, 1) == 8.0
    assert percentile([], 50) is None
    assert percentile(list(map(float, range(1, 101))), 90) == 90.0


def test_csv_cells_that_would_run_as_formulas_are_quoted() -> None:
    assert _cell('=HYPERLINK("http://evil")') == "'=HYPERLINK(\"http://evil\")"
    assert _cell("+1") == "'+1" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("Anna") == "Anna" and _cell(12) == 12 and _cell(None) is None
