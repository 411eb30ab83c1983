"""Facets as a person uses them: several values of a key (OR), across keys (AND), marked, steady."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from desktop_app.ui.facet_selection import chosen_values, toggle_value, without_keys
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users

USERS = sample_end_users()


def _plan_count(*plans: str) -> int:
    return sum(1 for u in USERS if u.properties["plan"] in plans)


@pytest.fixture
def window(qtbot: QtBot, services: AppServices) -> Iterator[MainWindow]:
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.model.complete and win._total == SAMPLE_SIZE, timeout=10_000)
    qtbot.waitUntil(lambda: win.facets.facets.rowCount() > 0, timeout=10_000)
    yield win
    win.close()


def _group(win: MainWindow, title: str) -> QModelIndex:
    model = win.facets.facets
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data() == title:
            return index
    raise AssertionError(f"no facet group {title}")


def _values(win: MainWindow, title: str) -> list[str]:
    model, parent = win.facets.facets, _group(win, title)
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def _value_index(win: MainWindow, title: str, label: str) -> QModelIndex:
    model, parent = win.facets.facets, _group(win, title)
    for r in range(model.rowCount(parent)):
        index = model.index(r, 0, parent)
        if str(index.data()).startswith(label + "  ("):
            return index
    raise AssertionError(f"no value {label} under {title}: {_values(win, title)}")


def _click(qtbot: QtBot, win: MainWindow, index: QModelIndex) -> None:
    view = win.facets
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


def _expand_plan(qtbot: QtBot, win: MainWindow) -> None:
    win.facets.expand(_group(win, "plan"))
    qtbot.waitUntil(lambda: len(_values(win, "plan")) == 4, timeout=10_000)


def _wait_filter(qtbot: QtBot, win: MainWindow, text: str, rows: int) -> None:
    qtbot.waitUntil(lambda: win.model.filter_text == text and win.model.complete and win.model.rowCount() == rows,
                    timeout=10_000)


def test_clicking_two_values_of_a_key_builds_an_or_and_keeps_the_siblings(qtbot: QtBot, window: MainWindow) -> None:
    _expand_plan(qtbot, window)
    before = _values(window, "plan")
    _click(qtbot, window, _value_index(window, "plan", "pro"))
    assert window.filter_bar.text() == "plan:pro"
    _wait_filter(qtbot, window, "plan:pro", _plan_count("pro"))
    qtbot.wait(FACET_SETTLE_MS)
    # Every sibling is still listed, in its place, with the count it would add.
    assert _values(window, "plan") == before
    _click(qtbot, window, _value_index(window, "plan", "enterprise"))
    assert window.filter_bar.text() == "plan:pro|enterprise"
    _wait_filter(qtbot, window, "plan:pro|enterprise", _plan_count("pro", "enterprise"))
    for label in ("pro", "enterprise"):
        index = _value_index(window, "plan", label)
        assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        assert index.data(Qt.ItemDataRole.FontRole).bold()
        assert "chosen" in index.data(Qt.ItemDataRole.AccessibleTextRole)
    free = _value_index(window, "plan", "free")
    assert free.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    # A second click on a chosen value takes it out again.
    _click(qtbot, window, _value_index(window, "plan", "pro"))
    assert window.filter_bar.text() == "plan:enterprise"


FACET_SETTLE_MS = 900  # the facet refresh runs 400 ms after the filter settles


def test_or_within_a_key_and_across_keys(qtbot: QtBot, window: MainWindow) -> None:
    _expand_plan(qtbot, window)
    _click(qtbot, window, _value_index(window, "plan", "team"))
    _click(qtbot, window, _value_index(window, "plan", "free"))
    _click(qtbot, window, _value_index(window, "Surveys", "Surveys off"))
    assert window.filter_bar.text() == "plan:team|free surveys:disabled"
    expected = [u for u in USERS if u.properties["plan"] in ("team", "free") and u.surveys_disabled]
    _wait_filter(qtbot, window, "plan:team|free surveys:disabled", len(expected))
    # Surveys on stays listed with the count choosing it instead would give.
    qtbot.waitUntil(
        lambda: _value_index(window, "Surveys", "Surveys on").data().endswith(
            f"({sum(1 for u in USERS if u.properties['plan'] in ('team', 'free') and not u.surveys_disabled):,})"),
        timeout=10_000,
    )


def test_typed_values_are_marked_as_chosen(qtbot: QtBot, window: MainWindow) -> None:
    _expand_plan(qtbot, window)
    window.filter_bar.set_text("plan:Team|enterprise is:pending")
    for label in ("team", "enterprise"):
        assert _value_index(window, "plan", label).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert _value_index(window, "plan", "pro").data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert _value_index(window, "Status", "Waiting to sync").data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_values_keep_their_places_while_counts_update(qtbot: QtBot, window: MainWindow) -> None:
    _expand_plan(qtbot, window)
    model = window.facets.facets
    moves: list[str] = []
    model.rowsRemoved.connect(lambda *_: moves.append("removed"))
    model.rowsInserted.connect(lambda *_: moves.append("inserted"))
    model.modelReset.connect(lambda: moves.append("reset"))
    before = [label.split("  (")[0] for label in _values(window, "plan")]
    window.filter_bar.set_text("surveys:disabled")  # counts of every plan change, order may too
    _wait_filter(qtbot, window, "surveys:disabled", sum(1 for u in USERS if u.surveys_disabled))
    disabled = sum(1 for u in USERS if u.surveys_disabled)
    qtbot.waitUntil(  # the plan counts are those of the new filter now
        lambda: sum(int(v.split("(")[1].rstrip(")").replace(",", "")) for v in _values(window, "plan")) == disabled,
        timeout=10_000,
    )
    assert [label.split("  (")[0] for label in _values(window, "plan")] == before
    assert moves == []


def test_filter_text_rules() -> None:
    assert toggle_value("", "plan:pro") == "plan:pro"
    assert toggle_value("plan:pro", "plan:enterprise") == "plan:pro|enterprise"
    assert toggle_value("plan:pro|enterprise", "plan:pro") == "plan:enterprise"
    assert toggle_value("plan:pro", "plan:pro") == ""
    assert toggle_value("plan:pro", 'plan:"big co"') == 'plan:pro|"big co"'
    assert toggle_value("surveys:enabled", "surveys:disabled", ("surveys",)) == "surveys:disabled"
    assert toggle_value("surveys:off", "surveys:disabled", ("surveys",)) == ""  # an alias is the same value
    assert chosen_values('email:acme plan:pro|"big co" -plan:free') == {"email": {"acme"}, "plan": {"pro", "big co"}}
    assert chosen_values("plan:pro OR plan:free") == {}  # hand-written logic is not a facet choice
    assert without_keys("plan:pro surveys:disabled is:pending", ["plan"]) == "surveys:disabled is:pending"
