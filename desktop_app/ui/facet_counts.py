"""Keeping the facet panel's counts current without competing with the table for the cores.

Facets count the whole result several ways (plan, surveys, each expanded property): after a
pause in typing, and calmly when only the data changed (a sync), one computation at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from desktop_app.ui.facet_selection import fixed_counts, property_counts
from desktop_app.ui.operations import Operations, log_failure

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery
    from desktop_app.ui.facets import FacetPanel

FACETS_AFTER_TYPING_MS = 400
FACETS_AFTER_DATA_MS = 2000

_Counted = tuple[dict[str, int], list[str], dict[str, list[tuple[str, int]]]]


class FacetCounts(QObject):
    """Reads the facet panel's counts for the table's filter, through the window's ops."""

    def __init__(self, panel: FacetPanel, ops: Operations, query: EndUserQuery,
                 filter_text: Callable[[], str], property_keys: Callable[[], list[str]],
                 table_loaded: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._panel = panel
        self._ops = ops
        self._query = query
        self._filter_text = filter_text
        self._property_keys = property_keys
        self._table_loaded = table_loaded
        self._counted_for: str | None = None  # the filter the shown counts are for
        self._key = f"facets-{id(self)}"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        panel.facets.values_wanted.connect(self.load_values)

    def result_shown(self) -> None:
        """The table shows a result: count soon after a new filter, calmly after new data."""
        if self._filter_text() != self._counted_for:
            self._timer.start(FACETS_AFTER_TYPING_MS)
        elif not self._timer.isActive():
            self._timer.start(FACETS_AFTER_DATA_MS)

    def data_changed(self) -> None:
        """New property keys or rows arrived: count again, calmly."""
        if not self._timer.isActive():
            self._timer.start(FACETS_AFTER_DATA_MS)

    def refresh(self) -> None:
        if not self._panel.isVisible() and self._table_loaded():
            return
        query, text = self._query, self._filter_text()
        keys = list(self._property_keys())
        loaded = self._panel.facets.loaded_property_keys()

        def work() -> _Counted:
            counts = fixed_counts(query, text)
            values = {k: property_counts(query, k, text) for k in loaded}
            return counts, keys, values

        def done(result: _Counted) -> None:
            counts, all_keys, values = result
            self._panel.facets.update_counts(counts, all_keys)
            for key, found in values.items():
                self._panel.facets.set_values(key, found)
            self._panel.expand_fixed_groups()

        self._counted_for = text
        # One facet computation at a time: counting a million rows several ways cannot be
        # interrupted, so a newer request waits for it instead of running beside it.
        self._ops.query(work, done, failed=log_failure, latest=self._key, serial=self._key, name="facet counts")

    def load_values(self, key: str) -> None:
        """A property's group was expanded: its values and their counts."""
        query, text = self._query, self._filter_text()
        self._ops.query(
            lambda: property_counts(query, key, text),
            lambda found: self._panel.facets.set_values(key, found),
            failed=log_failure,
            name="facet values",
        )
