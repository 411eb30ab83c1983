"""The lazy end-user table model and the smaller models, over a real cache file."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QModelRoleData, Qt
from PySide6.QtWidgets import QTableView, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.domain import SurveyDecline, SurveyResponse
from desktop_app.ui.columns import ColumnLayout
from desktop_app.ui.detail_models import HistoryModel, PropertiesModel
from desktop_app.ui.end_user_model import ID_ROLE, EndUserTableModel
from desktop_app.ui.facets import FacetModel, groups_from_counts, toggle_term
from desktop_app.ui.saved_filters import SavedFiltersModel
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users

ALL_COLUMNS = ColumnLayout(
    keys=("markers", "email", "surveys", "external_id", "id", "created_at", "last_surveyed",
          "prop:plan", "prop:revenue_amount", "prop:signup_date", "prop:features_array")
)


def _model(qtbot: QtBot, services: AppServices, query: Any = None) -> EndUserTableModel:
    model = EndUserTableModel(query or services.query, services.ops, ALL_COLUMNS.specs())
    holder = QWidget()  # qtbot deletes it after the test, and with it the model and its timers
    qtbot.addWidget(holder)
    model.setParent(holder)
    model.holder = holder  # alive as long as the model is
    model.refresh()
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    return model


def _column(model: EndUserTableModel, key: str) -> int:
    return [c.key for c in model.columns].index(key)


def test_model_passes_qtmodeltester_and_reads_the_cache(qtbot: QtBot, qtmodeltester: Any, services: AppServices) -> None:
    model = _model(qtbot, services)
    assert model.rowCount() == SAMPLE_SIZE
    qtmodeltester.check(model)
    by_id = {u.id: u for u in sample_end_users()}
    for row in (0, 7, SAMPLE_SIZE - 1):
        end_user = by_id[model.data(model.index(row, 0), ID_ROLE)]
        assert model.data(model.index(row, _column(model, "email"))) == end_user.email
        assert model.data(model.index(row, _column(model, "prop:plan"))) == end_user.properties["plan"]
    opted_out = by_id[1015]  # every 15th opted out themself
    row = model.locate([opted_out.id])[opted_out.id]
    assert model.data(model.index(row, _column(model, "surveys"))) == "Off (opted out)"
    assert model.data(model.index(row, _column(model, "surveys")), Qt.ItemDataRole.DecorationRole) is not None


def test_sort_happens_in_sql_both_ways(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    model.sort(_column(model, "id"), Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.id_at(0) == 1000 + SAMPLE_SIZE, timeout=10_000)
    model.sort(_column(model, "id"), Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.id_at(0) == 1001 and model.complete, timeout=10_000)
    ids = [model.id_at(r) or 0 for r in range(model.rowCount())]
    assert ids == sorted(ids)


def test_a_change_repaints_only_the_changed_rows_and_does_not_reset(
    qtbot: QtBot, services: AppServices
) -> None:
    model = _model(qtbot, services)
    for row in range(0, 60):  # the rows on screen get cached
        model.data(model.index(row, 1))
    target = model.id_at(5)
    assert target is not None
    changed: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.dataChanged.connect(lambda tl, br, _roles=(): changed.append((tl.row(), br.row())))
    model.modelReset.connect(lambda: resets.append(True))
    changes = services.cache.result().set_property([target], "plan", "platinum")
    model.apply_cache_changes(changes)
    assert changed == [(5, 5)]
    assert model.data(model.index(5, _column(model, "prop:plan"))) == "platinum"
    # The scheduled re-query finds the same ids (sorted by email): no reset.
    qtbot.wait(600)
    assert resets == []


def test_membership_change_resets_with_new_ids(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    model.set_filter("plan:pro")
    qtbot.waitUntil(lambda: model.filter_text == "plan:pro" and model.complete
                    and model.rowCount() == SAMPLE_SIZE // 4, timeout=10_000)
    outsider = next(u.id for u in sample_end_users() if u.properties["plan"] == "free")
    with qtbot.waitSignal(model.modelReset, timeout=10_000):
        model.apply_cache_changes(services.cache.result().set_property([outsider], "plan", "pro"))
    assert model.rowCount() == SAMPLE_SIZE // 4 + 1
    assert outsider in model.locate([outsider])


class _BrokenRows:
    """A query whose row fetch fails: the model must show placeholders, not raise."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)  # ids, count, page, holds: the real ones

    def rows_by_ids(self, ids: Any) -> Any:
        raise OSError("database is locked")


def test_rows_that_fail_to_load_are_placeholders(qtbot: QtBot, services: AppServices, qtmodeltester: Any) -> None:
    model = _model(qtbot, services, _BrokenRows(services.query))
    assert model.rowCount() == SAMPLE_SIZE
    assert model.end_user_row(0) is not None  # the first screen came with the head query
    below = SAMPLE_SIZE - 1  # rows below it are fetched by id: that fails
    assert model.data(model.index(below, _column(model, "email"))) == "…"
    assert "could not be loaded" in model.data(model.index(below, 1), Qt.ItemDataRole.ToolTipRole)
    assert model.end_user_row(below) is None
    qtmodeltester.check(model)


def test_full_refresh_change_repaints_everything(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    with qtbot.waitSignal(model.dataChanged, timeout=10_000) as blocker:
        model.apply_cache_changes(CacheChanges(Initiator.PULL, None, rows_added_or_removed=False))
    top_left, bottom_right = blocker.args[0], blocker.args[1]
    assert (top_left.row(), bottom_right.row()) == (0, SAMPLE_SIZE - 1)


def test_facet_model(qtmodeltester: Any) -> None:
    model = FacetModel()
    model.set_groups(groups_from_counts({"surveys_enabled": 270, "surveys_disabled": 30, "pending": 2}, ["plan", "region"]))
    plan_group = model.index(2, 0)
    assert model.data(plan_group) == "plan"
    assert model.canFetchMore(plan_group)
    wanted: list[str] = []
    model.values_wanted.connect(wanted.append)
    model.fetchMore(plan_group)
    assert wanted == ["plan"]
    assert not model.canFetchMore(plan_group)  # asked once, not again while loading
    model.set_values("plan", [("pro", 75), ("free", 75), ("big deal", 3)])
    assert model.rowCount(plan_group) == 3
    assert model.term_at(model.index(2, 0, plan_group)) == 'plan:"big deal"'
    assert model.data(model.index(0, 0, plan_group)) == "pro  (75)"
    qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("", "is:pending", "is:pending"),
        ("plan:pro is:pending", "is:pending", "plan:pro"),
        ("plan:pro surveys:enabled", "surveys:disabled", "plan:pro surveys:disabled"),
        ('acme plan:"big deal"', 'plan:"big deal"', "acme"),
    ],
)
def test_facet_click_toggles_a_term(text: str, term: str, expected: str) -> None:
    assert toggle_term(text, term, ("surveys", "disabled_by")) == expected


def test_saved_filters_model_persists(qtmodeltester: Any) -> None:
    model = SavedFiltersModel()
    model.add("Pro users", "plan:pro")
    model.add("Opted out", "disabled_by:end_user")
    assert model.rename(0, "Pro plan")
    qtmodeltester.check(model)
    again = SavedFiltersModel()  # a fresh model reads QSettings
    assert [(f.name, f.query) for f in again.filters] == [("Pro plan", "plan:pro"), ("Opted out", "disabled_by:end_user")]
    again.remove(0)
    assert [f.name for f in SavedFiltersModel().filters] == ["Opted out"]


def test_properties_model_asks_for_writes_and_checks_types(qtmodeltester: Any) -> None:
    from desktop_app.ui.property_editors import PropertyInputError

    model = PropertiesModel()
    model.set_properties({"plan": "pro", "seats_count": 4, "signup_date": 1_700_000_000}, frozenset({"plan"}))
    qtmodeltester.check(model)
    requested: list[tuple[str, object]] = []
    rejected: list[str] = []
    model.edit_requested.connect(lambda k, v: requested.append((k, v)))
    model.input_rejected.connect(rejected.append)
    row = model.row_of("seats_count")
    assert row is not None
    model.setData(model.index(row, 1), 5)
    model.setData(model.index(row, 1), PropertyInputError("“seats_count” needs a whole number"))
    assert requested == [("seats_count", 5)]
    assert rejected == ["“seats_count” needs a whole number"]
    assert model.data(model.index(model.row_of("signup_date") or 0, 1)) == "2023-11-14"
    assert "waiting to sync" in model.data(model.index(model.row_of("plan") or 0, 0), Qt.ItemDataRole.ToolTipRole)


def test_history_model(qtmodeltester: Any) -> None:
    model = HistoryModel()
    model.set_history([
        SurveyResponse(id=1, end_user_id=7, score=9, created_at=1_700_000_000, text="Great", tags=("ux", "billing")),
        SurveyResponse(id=2, end_user_id=7, score=3, created_at=1_710_000_000, text=None),
    ], [SurveyDecline(5, 7, 1_705_000_000, 1_705_000_000)])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 0)) == "3"  # newest first
    assert model.data(model.index(1, 0)) == "Declined"
    assert (model.data(model.index(2, 1)), model.data(model.index(2, 2))) == ("Great", "ux, billing")


class _GatedIds:
    """The full id list waits for the test: the first screen must paint without it."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def ids(self, text: str, sort: Any) -> Any:
        self.gate.wait(10)
        return self._real.ids(text, sort)


def test_a_new_sort_paints_the_first_screen_before_the_id_list(qtbot: QtBot, services: AppServices) -> None:
    gated = _GatedIds(services.query)
    gated.gate.set()
    model = _model(qtbot, services, gated)
    gated.gate.clear()
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.ids_applied, timeout=10_000):
        model.set_sort("id", True)
    assert model.rowCount() == SAMPLE_SIZE and not model.complete
    assert model.id_at(0) == 1000 + SAMPLE_SIZE  # the head is there, sorted
    assert model.id_at(SAMPLE_SIZE - 1) is None  # below it: loading
    assert model.data(model.index(SAMPLE_SIZE - 1, 1), Qt.ItemDataRole.ToolTipRole) == "Loading…"
    with qtbot.waitSignal(model.dataChanged, timeout=10_000) as changed:
        gated.gate.set()
    assert changed.args[1].row() == SAMPLE_SIZE - 1
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    assert model.id_at(SAMPLE_SIZE - 1) == 1001
    assert resets == [True]  # one reset for the new order; the rest filled in without another


_PAINT_ROLES = (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.CheckStateRole,
    ID_ROLE,
)


def _role_value(value: Any) -> Any:
    """Icons and fonts compare by what they draw; everything else by value."""
    return value.cacheKey() if hasattr(value, "cacheKey") else value


def test_multi_data_answers_every_role_as_data_does(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    model.apply_cache_changes(services.cache.result().set_property([model.id_at(3) or 0], "plan", "platinum"))  # pending
    model.apply_cache_changes(services.cache.result().delete_end_users([model.id_at(4) or 0]))  # struck through
    # One QModelRoleData per role for every cell, as a delegate reuses its span: a value left
    # from the cell before must never show in the next.
    reused = {role: QModelRoleData(int(role)) for role in _PAINT_ROLES}
    for row in (0, 3, 4, 150, SAMPLE_SIZE - 1):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            for role in _PAINT_ROLES:
                role_data = reused[role]
                model.multiData(index, role_data)
                assert _role_value(role_data.data()) == _role_value(model.data(index, role)), (row, column, role)


class _CountingModel(EndUserTableModel):
    """Counts the calls a view makes into Python while it paints."""

    data_calls = 0
    multi_data_calls = 0

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        type(self).data_calls += 1
        return super().data(index, role)

    def multiData(self, index: Any, roleDataSpan: Any) -> None:
        type(self).multi_data_calls += 1
        super().multiData(index, roleDataSpan)


def test_a_repaint_asks_python_once_per_cell_not_once_per_role(qtbot: QtBot, services: AppServices) -> None:
    model = _CountingModel(services.query, services.ops, ALL_COLUMNS.specs())
    model.refresh()
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    _CountingModel.data_calls = _CountingModel.multi_data_calls = 0
    image = view.viewport().grab()
    assert not image.isNull()
    cells = _CountingModel.multi_data_calls
    assert cells >= 10 * 5  # a screen of rows, several columns each
    assert _CountingModel.data_calls == 0  # every role came with the cell's one call
    shown = model.data(model.index(0, _column(model, "email")))
    assert shown and "@" in shown


class _CountingRows:
    """The real query, counting the rows the model fetches by id."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.fetched: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def rows_by_ids(self, ids: Any) -> Any:
        self.fetched.extend(ids)
        return self._real.rows_by_ids(ids)


def test_an_id_refresh_keeps_loaded_rows_and_repaints_changes_where_rows_moved(
    qtbot: QtBot, services: AppServices
) -> None:
    query = _CountingRows(services.query)
    model = _model(qtbot, services, query)
    for row in range(0, SAMPLE_SIZE):  # every row loaded
        model.data(model.index(row, 1))
    first = model.id_at(0)
    assert first is not None
    # The first end user's email now sorts last: the re-read ids differ and the model resets.
    with qtbot.waitSignal(model.modelReset, timeout=10_000):
        model.apply_cache_changes(services.cache.result().set_email(first, "zzz-last@example.com"))
    assert model.id_at(SAMPLE_SIZE - 1) == first
    query.fetched.clear()
    for row in range(0, SAMPLE_SIZE):
        model.data(model.index(row, 1))
    assert query.fetched == [first]  # only the edited row is read again, not the whole result
    assert model.data(model.index(SAMPLE_SIZE - 1, 1)) == "zzz-last@example.com"
    # A later change to a row that moved repaints its new place.
    moved = model.id_at(0)
    assert moved is not None
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _roles=(): changed.append((tl.row(), br.row())))
    model.apply_cache_changes(services.cache.result().set_property([moved], "plan", "platinum"))
    assert changed == [(0, 0)]
    assert model.data(model.index(0, _column(model, "prop:plan"))) == "platinum"
