"""Icons and emphasis drawn from the system palette, so light and dark schemes both read well."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap

ICON_SIZE = 16


def _palette_key() -> tuple[str, str, str]:
    """Icons are cached per palette: a scheme switch at runtime draws them afresh."""
    pal = QGuiApplication.palette()
    return (
        pal.color(QPalette.ColorRole.WindowText).name(),
        pal.color(QPalette.ColorRole.Highlight).name(),
        pal.color(QPalette.ColorRole.Base).name(),
    )


def _canvas(width: int = ICON_SIZE, height: int = ICON_SIZE) -> tuple[QPixmap, QPainter]:
    ratio = max(1.0, QGuiApplication.primaryScreen().devicePixelRatio()) if QGuiApplication.primaryScreen() else 1.0
    pixmap = QPixmap(int(width * ratio), int(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def _draw_pending(p: QPainter, x: float, fg: QColor) -> None:
    """A clock face: "waiting to sync"."""
    p.setPen(QPen(fg, 1.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(x + 2, 2, 12, 12))
    p.drawLine(QPointF(x + 8, 8), QPointF(x + 8, 4.5))
    p.drawLine(QPointF(x + 8, 8), QPointF(x + 10.5, 9.5))


def _draw_conflict(p: QPainter, x: float, fg: QColor, accent: QColor) -> None:
    """A warning triangle with an exclamation mark: "needs your decision"."""
    path = QPainterPath()
    path.moveTo(x + 8, 1.5)
    path.lineTo(x + 15, 14.5)
    path.lineTo(x + 1, 14.5)
    path.closeSubpath()
    p.setPen(QPen(fg, 1.2))
    p.setBrush(accent)
    p.drawPath(path)
    p.setPen(QPen(fg, 1.8))
    p.drawLine(QPointF(x + 8, 5.5), QPointF(x + 8, 10))
    p.drawPoint(QPointF(x + 8, 12.3))


def _draw_deleted(p: QPainter, x: float, fg: QColor) -> None:
    """A cross: "deleted here, not yet confirmed by the service"."""
    p.setPen(QPen(fg, 1.8))
    p.drawLine(QPointF(x + 4, 4), QPointF(x + 12, 12))
    p.drawLine(QPointF(x + 12, 4), QPointF(x + 4, 12))


@lru_cache(maxsize=64)
def _marker_icon(pending: bool, conflict: bool, deleted: bool, palette: tuple[str, str, str]) -> QIcon:
    fg, accent = QColor(palette[0]), QColor(palette[1])
    count = int(pending) + int(conflict) + int(deleted)
    pixmap, p = _canvas(ICON_SIZE * max(count, 1), ICON_SIZE)
    x = 0.0
    if conflict:
        warn = QColor(accent)
        warn.setAlpha(110)
        _draw_conflict(p, x, fg, warn)
        x += ICON_SIZE
    if pending:
        _draw_pending(p, x, fg)
        x += ICON_SIZE
    if deleted:
        _draw_deleted(p, x, fg)
    p.end()
    return QIcon(pixmap)


def marker_icon(pending: bool, conflict: bool, deleted: bool) -> QIcon | None:
    """One icon showing every marker an end user has, or None when there is nothing to show."""
    if not (pending or conflict or deleted):
        return None
    return _marker_icon(pending, conflict, deleted, _palette_key())


@lru_cache(maxsize=16)
def _surveys_icon(enabled: bool, palette: tuple[str, str, str]) -> QIcon:
    fg = QColor(palette[0])
    pixmap, p = _canvas()
    p.setPen(QPen(fg, 1.6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    if enabled:  # a tick
        p.drawPolyline([QPointF(3, 8.5), QPointF(6.5, 12), QPointF(13, 4)])
    else:  # a slashed circle
        p.drawEllipse(QRectF(2.5, 2.5, 11, 11))
        p.drawLine(QPointF(4.5, 11.5), QPointF(11.5, 4.5))
    p.end()
    return QIcon(pixmap)


def surveys_icon(enabled: bool) -> QIcon:
    """A shape (tick / slashed circle), not a colour, says whether surveys are on."""
    return _surveys_icon(enabled, _palette_key())


def emphasis_font(base: QFont, *, italic: bool = False, strike: bool = False, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setItalic(italic)
    font.setStrikeOut(strike)
    font.setBold(bold)
    return font


def muted_color() -> QColor:
    """Secondary text (placeholders, hints) from the palette, never a fixed grey."""
    return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def _toward(color: QColor, target: QColor, share: float) -> QColor:
    return QColor(
        round(color.red() + (target.red() - color.red()) * share),
        round(color.green() + (target.green() - color.green()) * share),
        round(color.blue() + (target.blue() - color.blue()) * share),
    )


def nps_group_colors() -> tuple[QColor, QColor, QColor]:
    """Detractors, passives, promoters: red, amber and green (the dashboard's own reading), pulled
    toward the text colour so each keeps contrast on a light or a dark base. Charts also say
    the groups in words and by position, never by colour alone."""
    pal = QGuiApplication.palette()
    text = pal.color(QPalette.ColorRole.WindowText)
    dark_base = pal.color(QPalette.ColorRole.Base).lightnessF() < 0.5
    hues = (QColor("#d64545"), QColor("#d9a21b"), QColor("#2e9d5b")) if dark_base else (
        QColor("#c23030"), QColor("#b07d00"), QColor("#1e7f45"))
    first, second, third = (_toward(h, text, 0.12) for h in hues)
    return first, second, third


def chart_colors() -> tuple[QColor, QColor, QColor]:
    """Axis text, grid lines and the line of a line chart, from the palette."""
    pal = QGuiApplication.palette()
    text = pal.color(QPalette.ColorRole.WindowText)
    grid = _toward(pal.color(QPalette.ColorRole.Base), text, 0.18)
    return text, grid, pal.color(QPalette.ColorRole.Highlight)
