"""What the window says about erasure: the bulk delete's warning about opt-outs, and an end
user whose delete the service took (202) shown as "erasure pending" in the table and panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.cache.reading.results import SortSpec
from desktop_app.cache.store import Cache
from desktop_app.ui.bulk_actions import BulkKind, BulkRequest, BulkScope, compute_preview, confirmation_text
from desktop_app.ui.columns import BUILTIN_COLUMNS, ColumnKind
from desktop_app.ui.detail_panel import DetailPanel
from desktop_app.ui.end_user_cells import cell_roles
from desktop_app.ui.services import AppServices

# In the sample every 15th end user opted out themself (ids 1015, 1030, ...).
OPTED_OUT = 1015


def _accept_erasure(cache: Cache, end_user_id: int) -> None:
    """The push's own calls for a delete the service answered with 202."""
    cache.delete_end_users([end_user_id])
    cache.erasure_sent(end_user_id)
    cache.complete_push(end_user_id, [e.id for e in cache.pending_for(end_user_id)], None,
                        erasure_accepted=True)


def test_the_bulk_delete_confirmation_counts_who_opted_out_themselves(services: AppServices) -> None:
    request = BulkRequest(BulkKind.DELETE)
    selected = compute_preview(services.query, request, BulkScope(ids=(1014, OPTED_OUT, 1030)), SortSpec("email"))
    text = confirmation_text(selected)
    assert selected.opted_out == 2 and len(selected.target_ids) == 3
    assert "2 of them opted out of surveys themselves" in text and "surveyed again" in text
    by_filter = compute_preview(services.query, request, BulkScope(filter_text="plan:pro"), SortSpec("email"))
    pro_opted_out = services.query.count("plan:pro disabled_by:end_user")
    assert pro_opted_out and by_filter.opted_out == pro_opted_out
    assert f"{pro_opted_out:,} of them opted out" in confirmation_text(by_filter)
    nobody = compute_preview(services.query, request, BulkScope(ids=(1014,)), SortSpec("email"))
    assert "opted out" not in confirmation_text(nobody)


def test_an_end_user_being_erased_reads_as_erasure_pending(
        qtbot: QtBot, services: AppServices, desk_cache: Cache) -> None:
    _accept_erasure(desk_cache, 1014)
    [row] = services.query.rows_by_ids([1014]).values()
    assert row.erasure_pending and not row.pending_delete
    markers = next(spec for spec in BUILTIN_COLUMNS if spec.kind is ColumnKind.MARKERS)
    roles = cell_roles(row, markers)
    assert "Erasure pending" in roles[Qt.ItemDataRole.ToolTipRole]
    assert roles[Qt.ItemDataRole.DecorationRole] is not None
    email_cell = cell_roles(row, next(spec for spec in BUILTIN_COLUMNS if spec.key == "email"))
    assert email_cell[Qt.ItemDataRole.FontRole].strikeOut()

    panel = DetailPanel(services)
    qtbot.addWidget(panel)
    panel.show_end_user(1014)
    qtbot.waitUntil(lambda: panel.cached is not None and panel.cached.end_user.id == 1014, timeout=10_000)
    assert panel.banner.text().startswith("Erasure pending: the service took the delete")
    assert not panel.email_edit.isEnabled() and not panel.surveys_button.isEnabled()
    assert panel.banner_icon.accessibleName() == "Erasure pending"
