"""The NPS panel: the NPS of whatever the filter shows, over a chosen period.

The big number, promoters / passives / detractors with counts and shares, the 0-10 distribution
and the NPS by month (`nps_charts`). The numbers are `EndUserQuery.nps` (every response of the
period, excluded ones left out, as Wootric counts them), read off the GUI thread through the
window's ops; a newer filter or period supersedes an older read (`latest`), and the panel says
"Counting…" meanwhile. Hidden, it reads nothing and catches up when shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop_app.cache.reading.nps import NpsReport, months_back
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cancellation import Cancelled
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.nps_charts import MonthLine, ScoreBars, signed
from desktop_app.ui.operations import Operations

NPS_AFTER_TYPING_MS = 250
NPS_AFTER_DATA_MS = 2000
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("Last 3 months", 3), ("Last 6 months", 6), ("Last 12 months", 12), ("All time", None))
DEFAULT_PERIOD = 2  # the last 12 months


def period_bounds(months: int | None, now: float) -> tuple[int | None, int | None]:
    """[start, end) of "the last `months` months" (this month and the ones before), or all."""
    if months is None:
        return None, None
    start = months_back(now, months)
    return start, months_back(now + 40 * 86_400, 1)  # the first second of next month


class NpsPanel(QWidget):
    """See the module docstring. `set_filter` follows the table; `data_changed` after a sync."""

    def __init__(self, ops: Operations, query: EndUserQuery, parent: QWidget | None = None,
                 now: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.setObjectName("nps_panel")
        self._ops, self._query, self._now = ops, query, now
        self._filter = ""
        self._shown_for: tuple[str, int] | None = None  # (filter, period) of the numbers shown
        self._key = f"nps-{id(self)}"
        self.report: NpsReport | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)

        self.period = QComboBox(self)
        for text, months in PERIODS:
            self.period.addItem(self.tr(text), months)
        self.period.setCurrentIndex(DEFAULT_PERIOD)
        period_label = QLabel(self.tr("&Period:"), self)
        period_label.setBuddy(self.period)
        self.period.setAccessibleName(self.tr("Period"))
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())

        self.score = ValueLabel(self.tr("NPS"), self, "–")
        big = QFont(self.font())
        big.setPointSizeF(max(big.pointSizeF(), 9.0) * 3.2)
        big.setBold(True)
        self.score.setFont(big)
        self.score.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.responses = ValueLabel(self.tr("Responses"), self)
        self.promoters = ValueLabel(self.tr("Promoters (9–10)"), self)
        self.passives = ValueLabel(self.tr("Passives (7–8)"), self)
        self.detractors = ValueLabel(self.tr("Detractors (0–6)"), self)
        self.status = ValueLabel(self.tr("NPS status"), self)
        self.status.setWordWrap(True)
        self.empty = QLabel(self.tr("No responses for this filter in the period"), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.bars = ScoreBars(self)
        self.line = MonthLine(self)

        numbers = QGridLayout()
        numbers.addWidget(period_label, 0, 0)
        numbers.addWidget(self.period, 0, 1)
        numbers.addWidget(self.score, 1, 0, 1, 2)
        numbers.addWidget(self.responses, 2, 0, 1, 2)
        for row, label in enumerate((self.promoters, self.passives, self.detractors), start=3):
            numbers.addWidget(QLabel(label.caption, self), row, 0)
            numbers.addWidget(label, row, 1)
        numbers.addWidget(self.status, 6, 0, 1, 2)
        numbers.setRowStretch(7, 1)
        left = QWidget(self)
        left.setLayout(numbers)
        left.setMinimumWidth(230)

        charts = QHBoxLayout()
        charts.addWidget(self.bars, 1)
        charts.addWidget(self.line, 2)
        charts.addWidget(self.empty, 3)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(left, 0)
        column = QVBoxLayout()
        column.addLayout(charts, 1)
        layout.addLayout(column, 1)
        self.setTabOrder(self.period, self.bars)
        self.setTabOrder(self.bars, self.line)
        self._show(None)

    # --- what the panel is for ---------------------------------------------------------------------

    @property
    def months(self) -> int | None:
        return self.period.currentData()

    @property
    def counting(self) -> bool:
        return self.status.text() == self.tr("Counting…")

    def set_filter(self, text: str) -> None:
        self._filter = text
        self._timer.start(NPS_AFTER_TYPING_MS)

    def data_changed(self) -> None:
        """Rows or responses arrived: count again, calmly (only while the panel is shown)."""
        self._shown_for = None
        if self.isVisible() and not self._timer.isActive():
            self._timer.start(NPS_AFTER_DATA_MS)

    def refresh(self) -> None:
        self._timer.stop()
        if not self.isVisible():
            return  # read when shown (showEvent)
        text, index = self._filter, self.period.currentIndex()
        start, end = period_bounds(self.months, self._now())
        query = self._query
        self.status.setText(self.tr("Counting…"))

        def done(report: NpsReport) -> None:
            self._shown_for = (text, index)
            self._show(report)

        self._ops.query(lambda: query.nps(text, start, end), done, failed=self._failed,
                        latest=self._key, name="NPS of the filter")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._shown_for != (self._filter, self.period.currentIndex()):
            self.refresh()

    # --- showing -----------------------------------------------------------------------------------

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        self.status.setText(self.tr("Could not count the NPS: %1").replace("%1", str(exc)))

    def _show(self, report: NpsReport | None) -> None:
        self.report = report
        empty = report is None or report.empty
        counts = None if report is None else report.counts
        self.bars.setVisible(not empty)
        self.line.setVisible(not empty)
        self.empty.setVisible(report is not None and empty)
        if counts is None or counts.nps is None:
            self.score.setText("–")
            for label in (self.responses, self.promoters, self.passives, self.detractors):
                label.setText("")
            self.status.setText(self.tr("No responses for this filter in the period") if report else "")
            if report is not None:
                self.bars.set_counts(counts)  # type: ignore[arg-type]  # counts exists with a report
                self.line.set_months(())
            return
        self.score.setText(signed(counts.nps))
        self.responses.setText(self.tr("%1 responses").replace("%1", f"{counts.responses:,}"))
        for label, n in ((self.promoters, counts.promoters), (self.passives, counts.passives),
                         (self.detractors, counts.detractors)):
            label.setText(f"{n:,} ({counts.share(n) * 100:.0f}%)")
        self.status.setText("")
        self.bars.set_counts(counts)
        assert report is not None
        self.line.set_months(report.months)
