"""The NPS panel's two charts, drawn with QPainter: the 0-10 score distribution as bars and the
NPS by month as a line.

QPainter, not a plotting library: PySide6-Essentials has no QtCharts, and PySide6-Addons (which
has it) would add about 200 MB to the bundle for two small charts. Each chart takes the keyboard
focus (Tab reaches it) and tells a screen reader what it shows in words: its accessible
description is a text summary of every bar or point.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionFocusRect, QWidget

from desktop_app.cache.reading.nps import MonthScores, ScoreCounts
from desktop_app.ui.theme import chart_colors, nps_group_colors

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def group_of(score: int) -> int:
    """0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10)."""
    return 0 if score <= 6 else 1 if score <= 8 else 2


def signed(nps: int) -> str:
    return f"+{nps}" if nps > 0 else str(nps)


def compact(n: int) -> str:
    """A count short enough to sit above a narrow bar: 950, 1.2k, 12k, 1.3M."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def month_label(month: MonthScores, with_year: bool) -> str:
    name = _MONTHS[month.month - 1]
    return f"{name} {month.year % 100:02d}" if with_year else name


class _Chart(QWidget):
    """What both charts share: focus, a focus frame, the palette's colours."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(260, 150)

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    def _describe(self, text: str) -> None:
        if text != self.accessibleDescription():
            self.setAccessibleDescription(text)
        self.setToolTip(text)

    def _title(self, painter: QPainter, color: QColor) -> float:
        """The chart's name across its top (what it shows, on screen as for a screen reader);
        returns the height it took."""
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(color)
        height = QFontMetrics(font).height()
        painter.drawText(QRectF(4, 2, self.width() - 8, height), Qt.AlignmentFlag.AlignLeft, self.accessibleName())
        painter.setFont(self.font())
        return height + 4

    def _frame(self, painter: QPainter) -> None:
        if self.hasFocus():
            option = QStyleOptionFocusRect()
            option.initFrom(self)
            option.backgroundColor = self.palette().color(QPalette.ColorRole.Window)
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter, self)


class ScoreBars(_Chart):
    """How many responses gave each score, 0 to 10, coloured by group."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Score distribution"), parent)
        self._counts: tuple[int, ...] = (0,) * 11
        self._describe(self.tr("No responses."))

    @property
    def counts(self) -> tuple[int, ...]:
        return self._counts

    def set_counts(self, counts: ScoreCounts) -> None:
        self._counts = counts.distribution
        total = counts.responses
        if not total:
            self._describe(self.tr("No responses."))
        else:
            parts = [f"{score}: {n:,}" for score, n in enumerate(self._counts)]
            top = max(range(11), key=lambda s: (self._counts[s], s))
            self._describe(self.tr("Responses by score, 0 to 10 — %1. Most common score: %2.")
                           .replace("%1", "; ".join(parts)).replace("%2", str(top)))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text, grid, _line = chart_colors()
        colors = nps_group_colors()
        metrics = QFontMetrics(self.font())
        line_h = metrics.height()
        peak = max(self._counts) or 1
        left, right = 8, 8
        top = self._title(painter, text) + line_h + 4  # the title, then counts above the bars
        bottom = line_h + 8  # scores below
        area = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        slot = area.width() / 11
        bar_w = max(4.0, slot * 0.7)
        painter.setPen(QPen(grid, 1))
        painter.drawLine(QPointF(area.left(), area.bottom()), QPointF(area.right(), area.bottom()))
        for score, n in enumerate(self._counts):
            x = area.left() + slot * score + (slot - bar_w) / 2
            height = area.height() * n / peak
            painter.fillRect(QRectF(x, area.bottom() - height, bar_w, height), colors[group_of(score)])
            painter.setPen(text)
            centre = QRectF(area.left() + slot * score, area.bottom() + 4, slot, line_h)
            painter.drawText(centre, Qt.AlignmentFlag.AlignCenter, str(score))
            shown = f"{n:,}"
            if metrics.horizontalAdvance(shown) > slot + 2:
                shown = compact(n)
            if n and metrics.horizontalAdvance(shown) <= slot + 2:  # no count that would overlap the next
                above = QRectF(area.left() + slot * score - 1, area.bottom() - height - line_h - 2, slot + 2, line_h)
                painter.drawText(above, Qt.AlignmentFlag.AlignCenter, shown)
        self._frame(painter)
        painter.end()


class MonthLine(_Chart):
    """The NPS of each month of the period, -100 to +100; a month without responses is a gap."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("NPS by month"), parent)
        self._months: tuple[MonthScores, ...] = ()
        self._describe(self.tr("No months."))

    @property
    def months(self) -> tuple[MonthScores, ...]:
        return self._months

    def set_months(self, months: tuple[MonthScores, ...]) -> None:
        self._months = months
        if not months:
            self._describe(self.tr("No months."))
        else:
            parts = []
            for m in months:
                nps = m.counts.nps
                parts.append(self.tr("%1 no responses").replace("%1", month_label(m, True)) if nps is None else
                             self.tr("%1 %2 (%3 responses)").replace("%1", month_label(m, True))
                             .replace("%2", signed(nps)).replace("%3", f"{m.counts.responses:,}"))
            self._describe(self.tr("NPS by month — %1.").replace("%1", "; ".join(parts)))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text, grid, line = chart_colors()
        metrics = QFontMetrics(self.font())
        line_h = metrics.height()
        axis_w = metrics.horizontalAdvance("+100") + 8
        head = self._title(painter, text) + line_h / 2 + 2
        right = metrics.horizontalAdvance("+100") + 6  # room for the last month's value
        area = QRectF(axis_w, head, self.width() - axis_w - right, self.height() - head - line_h - 8)

        def y_of(value: float) -> float:
            return area.top() + area.height() * (100 - value) / 200

        for value in (100, 50, 0, -50, -100):
            y = y_of(value)
            painter.setPen(QPen(grid, 2 if value == 0 else 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text)
            painter.drawText(QRectF(0, y - line_h / 2, axis_w - 6, line_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, signed(value))
        count = len(self._months)
        if count:
            step = area.width() / count
            xs = [area.left() + step * (i + 0.5) for i in range(count)]
            # as many month names as fit without touching: every k-th, the year on January and the first
            widest = max(metrics.horizontalAdvance(month_label(m, True)) for m in self._months) + 8
            every = max(1, int(-(-widest // max(step, 1))))
            painter.setPen(text)
            for i, month in enumerate(self._months):
                if i % every:
                    continue
                label = month_label(month, i == 0 or month.month == 1)
                painter.drawText(QRectF(xs[i] - step * every / 2, area.bottom() + 4, step * every, line_h),
                                 Qt.AlignmentFlag.AlignCenter, label)
            path = QPainterPath()
            drawing = False
            points = []
            for x, month in zip(xs, self._months):
                exact = month.counts.exact_nps
                if exact is None:
                    drawing = False
                    continue
                point = QPointF(x, y_of(exact))
                points.append(point)
                if drawing:
                    path.lineTo(point)
                else:
                    path.moveTo(point)
                    drawing = True
            painter.setPen(QPen(line, 2.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(QColor(line))
            for point in points:
                painter.drawEllipse(point, 3.2, 3.2)
            last = next((m for m in reversed(self._months) if m.counts.nps is not None), None)
            if last is not None and points:  # the latest month's NPS, written beside its point
                latest = signed(last.counts.nps or 0)
                end = points[-1]
                above = end.y() - line_h - 4 if end.y() - line_h - 4 > area.top() - line_h / 2 else end.y() + 4
                painter.setPen(text)
                painter.drawText(QRectF(end.x() - 40, above, 80, line_h), Qt.AlignmentFlag.AlignCenter, latest)
        self._frame(painter)
        painter.end()
