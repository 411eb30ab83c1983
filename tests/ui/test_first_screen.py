"""The first screen of a new filter comes first: urgent tasks, held and stopped background reads,
no needless repaints, and a filter bar that neither waits nor asks for what it cannot use."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

import desktop_app.cache.reading.turns as read_turns
from desktop_app.ui.end_user_model import HEAD_ROWS, EndUserTableModel
from desktop_app.ui.facets import FacetModel, groups_from_counts
from desktop_app.ui.filter_bar import DEBOUNCE_MS, VALUES_AFTER_MS, FilterBar
from desktop_app.ui.services import AppServices
from desktop_app.ui.tasks import TaskRunner
from .conftest import SAMPLE_SIZE
from .test_model_end_user import ALL_COLUMNS


def test_an_urgent_task_runs_while_background_tasks_fill_every_thread(qtbot: QtBot, tasks: TaskRunner) -> None:
    gate = threading.Event()
    background = [tasks.run(lambda: gate.wait(10), lambda _: None) for _ in range(6)]
    urgent: list[str] = []
    tasks.run(lambda: "first screen", urgent.append, urgent=True)
    qtbot.waitUntil(lambda: bool(urgent), timeout=5_000)
    assert not any(handle.done for handle in background)
    gate.set()
    qtbot.waitUntil(lambda: all(handle.done for handle in background), timeout=10_000)


def test_a_superseded_task_stops_its_query(qtbot: QtBot, services: AppServices,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_turns, "CHECK_STEPS", 10)  # a small table's count meets checks too
    ops, query = services.ops, services.query
    started, go_on = threading.Event(), threading.Event()
    stopped: list[BaseException] = []

    def old_count() -> int:
        started.set()
        go_on.wait(10)
        try:
            return query.count("acme")
        except sqlite3.OperationalError as error:
            stopped.append(error)
            raise

    results: list[int] = []
    old = ops.query(old_count, results.append, latest="count", name="old count")
    assert started.wait(10)
    new = ops.query(lambda: query.count("globex"), results.append, latest="count", name="new count")
    go_on.set()
    qtbot.waitUntil(lambda: old.done and new.done, timeout=10_000)
    assert len(stopped) == 1 and "interrupt" in str(stopped[0])
    assert results == [query.count("globex")]


def _model(qtbot: QtBot, services: AppServices) -> EndUserTableModel:
    model = EndUserTableModel(services.query, services.ops, ALL_COLUMNS.specs())
    holder = QWidget()  # qtbot deletes it after the test, and with it the model and its timers
    qtbot.addWidget(holder)
    model.setParent(holder)
    model.holder = holder  # alive as long as the model is
    model.refresh()
    qtbot.waitUntil(lambda: model.complete and not services.query.reads_held, timeout=10_000)
    return model


def test_a_new_filter_holds_other_reads_until_its_first_screen_is_in(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    held_when_shown: list[bool] = []
    model.first_rows_shown.connect(lambda: held_when_shown.append(services.query.reads_held))
    model.set_filter("acme")
    assert services.query.reads_held  # from the keystroke on
    qtbot.waitUntil(lambda: bool(held_when_shown), timeout=10_000)
    assert held_when_shown == [True]
    qtbot.waitUntil(lambda: not services.query.reads_held, timeout=5_000)  # then the rest may run
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    assert model.rowCount() == SAMPLE_SIZE // 3


def test_completing_the_ids_repaints_only_placeholders_that_were_shown(qtbot: QtBot, services: AppServices) -> None:
    model = _model(qtbot, services)
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changes.append((first.row(), last.row())))
    with qtbot.waitSignal(model.first_rows_shown, timeout=10_000):
        model.set_sort("id", True)
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    assert model.id_at(SAMPLE_SIZE - 1) == 1001
    assert changes == []  # nothing below the first screen was on screen: no repaint

    with qtbot.waitSignal(model.first_rows_shown, timeout=10_000):
        model.set_sort("id", False)  # a new sort keeps the count: the ids follow later
    assert model.rowCount() == SAMPLE_SIZE and not model.complete
    for row in (HEAD_ROWS + 5, HEAD_ROWS + 9):  # rows below the first screen say "Loading…"
        assert model.data(model.index(row, 1), Qt.ItemDataRole.ToolTipRole) == "Loading…"
    qtbot.waitUntil(lambda: model.complete, timeout=10_000)
    assert changes == [(HEAD_ROWS + 5, HEAD_ROWS + 9)]
    assert model.id_at(HEAD_ROWS + 5) == 1001 + HEAD_ROWS + 5


def test_cells_come_from_the_row_and_follow_its_changes(qtbot: QtBot, services: AppServices,
                                                        qtmodeltester: Any) -> None:
    model = _model(qtbot, services)
    email = [c.key for c in model.columns].index("email")
    first_id = model.id_at(0)
    before = model.data(model.index(0, email))
    assert before == model.data(model.index(0, email))  # asked twice, same answer
    changes = services.cache.result().set_email(first_id, "aaa-first@example.com")
    model.apply_cache_changes(changes)
    assert model.data(model.index(0, email)) == "aaa-first@example.com"
    qtmodeltester.check(model)


def test_new_counts_update_facet_values_in_place(qtmodeltester: Any) -> None:
    model = FacetModel()
    model.set_groups(groups_from_counts({"surveys_enabled": 270, "surveys_disabled": 30, "pending": 2}, ["plan"]))
    resets: list[bool] = []
    changed: list[QModelIndex] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.dataChanged.connect(lambda first, _last, *_: changed.append(first))
    model.update_counts({"surveys_enabled": 250, "surveys_disabled": 30, "pending": 2}, ["plan"])
    assert resets == [] and len(changed) == 1
    assert model.data(changed[0]) == "Surveys on  (250)"
    model.update_counts({"surveys_enabled": 250, "surveys_disabled": 30}, ["plan"])  # a value left
    assert resets == [True]
    qtmodeltester.check(model)


def test_values_are_asked_for_only_when_typing_rests_on_a_key(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_property_keys(["plan", "revenue_amount"])
    wanted: list[str] = []
    bar.values_wanted.connect(wanted.append)
    for text in ("revenue_amount:>=1", "revenue_amount:10..", "revenue_amount:<"):
        bar.edit.clear()
        qtbot.keyClicks(bar.edit, text)  # typed straight through `revenue_amount:`
        qtbot.wait(VALUES_AFTER_MS + 200)
    assert wanted == []
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "plan:")
    qtbot.waitUntil(lambda: wanted == ["plan"], timeout=5_000)


def test_a_key_after_a_pause_runs_at_once_even_when_the_event_loop_was_busy(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    emitted: list[str] = []
    bar.filter_changed.connect(emitted.append)
    qtbot.keyClick(bar.edit, "a")
    assert emitted == ["a"]  # the first key after a pause: no debounce
    time.sleep(DEBOUNCE_MS / 1000 + 0.05)  # busy: the trailing timer could not fire yet
    qtbot.keyClick(bar.edit, "b")
    assert emitted == ["a", "ab"]
    qtbot.keyClick(bar.edit, "c")  # quick succession: coalesced, after the debounce
    assert emitted == ["a", "ab"]
    qtbot.waitUntil(lambda: emitted == ["a", "ab", "abc"], timeout=5_000)
