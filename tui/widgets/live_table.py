"""A DataTable whose cell updates repaint only the rows they change.

`DataTable.update_cell` bumps a counter that is part of every render cache key. So changing one
cell makes the table render every visible row again, which took about 50 ms on the UI thread for
a screen of 50 jobs on a 2-core machine. `update_rows` drops the cached renders of the changed
rows only and refreshes their lines.

NOTE: this reads DataTable's private caches (`_data`, `_cell_render_cache`, `_row_render_cache`,
`_row_renderable_cache`, `_line_cache`, `_row_locations`) as textual 8.2.8 has them; the pinned
version and `tests/tui/test_jobs_screen.py` guard it.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey


class LiveTable(DataTable):
    """A DataTable with `update_rows`, for tables that change a few cells every tick."""

    def update_rows(self, changes: Mapping[str, Mapping[str, CellType]]) -> None:
        """Set cells by row key and column key, and repaint only the rows that changed.

        Values must fit their columns' fixed widths: columns are not measured again.
        """
        row_keys = {RowKey(key) for key in changes}
        if not row_keys:
            return
        for key, cells in changes.items():
            row = self._data[RowKey(key)]
            for column, value in cells.items():
                row[ColumnKey(column)] = value
        indexes = {self._row_locations.get(key) for key in row_keys}
        for cache, position, stale in (
            (self._cell_render_cache, 0, row_keys),
            (self._row_render_cache, 0, row_keys),
            (self._row_renderable_cache, 1, indexes),
        ):
            for cache_key in [cache_key for cache_key in cache.keys() if cache_key[position] in stale]:
                cache.discard(cache_key)
        # Lines are cached by screen line, and the unchanged rows' lines come back from the row cache.
        self._line_cache.clear()
        for index in indexes:
            self.refresh_row(index)
