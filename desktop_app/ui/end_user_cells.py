"""What a cell of the end-user table shows for each role, from a loaded `ResultRow`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_app.fields import FieldKind
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
    if getattr(row, "erasure_pending", False):
        parts.append(QGuiApplication.translate(
            "EndUserTableModel", "Erasure pending: the service took the delete and purges this person later"))
    return "\n".join(parts)


_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_FONT = Qt.ItemDataRole.FontRole
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def cell_roles(row: Any, spec: ColumnSpec) -> dict[int, Any]:
    """Every role one cell of a loaded row answers, at once; roles left out are None.

    A repaint asks a cell for seven roles together (`multiData`): building them in one pass
    costs a fraction of seven separate calls.
    """
    kind = spec.kind
    if kind is ColumnKind.MARKERS:
        pending = bool(getattr(row, "pending_count", 0))
        conflict = bool(getattr(row, "has_conflict", False))
        # Erasure pending draws the deleted cross too; the words tell the two apart.
        deleting = bool(getattr(row, "pending_delete", False) or getattr(row, "erasure_pending", False))
        words = markers_text(row) if pending or conflict or deleting else ""
        roles: dict[int, Any] = {_DECORATION: theme.marker_icon(pending, conflict, deleting)}
        if words:
            roles[_TOOLTIP] = roles[_ACCESSIBLE] = words
        return roles
    roles = {}
    if getattr(row, "pending_delete", False) or getattr(row, "erasure_pending", False):
        roles[_FONT] = theme.emphasis_font(QGuiApplication.font(), strike=True)
    field_kind = spec.field.kind if spec.field is not None else None
    if field_kind is FieldKind.INTEGER:
        roles[_ALIGNMENT] = _RIGHT
    if kind is ColumnKind.SURVEYS:
        disabled = bool(getattr(row, "surveys_disabled", False))
        roles[_DECORATION] = theme.surveys_icon(not disabled)
        roles[_DISPLAY] = roles[_TOOLTIP] = roles[_ACCESSIBLE] = surveys_text(disabled, getattr(row, "disabled_by", ""))
        return roles
    if kind is ColumnKind.PROPERTY:
        key = spec.property_key or ""
        props = getattr(row, "properties", None) or {}
        text = format_property(key, props.get(key)) if key in props else ""
    else:
        value = getattr(row, spec.key, None)
        if field_kind is FieldKind.DATE:
            text = format_date(value)
            roles[_TOOLTIP] = format_datetime(value) or None
        else:
            text = "" if value is None else str(value)
    roles[_DISPLAY] = text
    roles.setdefault(_TOOLTIP, text)
    roles[_ACCESSIBLE] = text
    return roles
