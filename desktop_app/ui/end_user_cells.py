"""What a cell of the end-user table shows for each role, from a loaded `ResultRow`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_app.ui import theme
from desktop_app.ui.columns import ColumnKind, ColumnSpec, format_date, format_datetime, format_property, surveys_text


def markers_text(row: Any) -> str:
    """Pending edits, conflicts and local deletion, in words (tooltip and screen readers)."""
    parts: list[str] = []
    pending = int(getattr(row, "pending_count", 0) or 0)
    if getattr(row, "has_conflict", False):
        parts.append(QGuiApplication.translate("EndUserTableModel", "Conflict: needs your decision"))
    if pending == 1:
        parts.append(QGuiApplication.translate("EndUserTableModel", "1 edit waiting to sync"))
    elif pending:
        parts.append(
            QGuiApplication.translate("EndUserTableModel", "%1 edits waiting to sync").replace("%1", str(pending))
        )
    if getattr(row, "pending_delete", False):
        parts.append(QGuiApplication.translate("EndUserTableModel", "Deleted here, not yet synced"))
    return "\n".join(parts)


def cell(row: Any, spec: ColumnSpec, role: int) -> Any:
    """One cell of a loaded row for one role."""
    kind = spec.kind
    if kind is ColumnKind.MARKERS:
        if role == Qt.ItemDataRole.DecorationRole:
            return theme.marker_icon(
                bool(getattr(row, "pending_count", 0)),
                bool(getattr(row, "has_conflict", False)),
                bool(getattr(row, "pending_delete", False)),
            )
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return markers_text(row) or None
        return None
    if role == Qt.ItemDataRole.FontRole:
        if getattr(row, "pending_delete", False):
            return theme.emphasis_font(QGuiApplication.font(), strike=True)
        return None
    if role == Qt.ItemDataRole.ForegroundRole:
        return None
    if role == Qt.ItemDataRole.TextAlignmentRole:
        if kind is ColumnKind.NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
    if kind is ColumnKind.SURVEYS:
        disabled = bool(getattr(row, "surveys_disabled", False))
        if role == Qt.ItemDataRole.DecorationRole:
            return theme.surveys_icon(not disabled)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return surveys_text(disabled, getattr(row, "disabled_by", ""))
        return None
    if role == Qt.ItemDataRole.DecorationRole:
        return None
    if kind is ColumnKind.PROPERTY:
        key = spec.property_key or ""
        props = getattr(row, "properties", None) or {}
        return format_property(key, props.get(key)) if key in props else ""
    value = getattr(row, spec.key, None)
    if kind is ColumnKind.DATE:
        if role == Qt.ItemDataRole.ToolTipRole:
            return format_datetime(value) or None
        return format_date(value)
    if value is None:
        return ""
    return str(value)
