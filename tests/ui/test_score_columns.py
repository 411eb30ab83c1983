"""Latest score, latest comment and response count are table columns: offered in View ▸
Columns, filled from the cached survey history, sortable, and exported as the table shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyResponse
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users

T = 1_720_000_000
COLUMNS = ("latest_score", "latest_comment", "response_count")


def _response(id: int, end_user_id: int, score: int, created_at: int, **fields: object) -> SurveyResponse:
    return SurveyResponse(id=id, end_user_id=end_user_id, score=score, created_at=created_at,
                          updated_at=created_at, **fields)


@pytest.fixture
def scored(qtbot: QtBot, services: AppServices, desk_cache: Cache) -> Iterator[tuple[MainWindow, list[int]]]:
    ids = [u.id for u in sample_end_users()[:3]]
    desk_cache.ingest_responses([
        _response(1, ids[0], 9, T, text="Love it"),
        _response(2, ids[1], 2, T, text="Too slow"),
        _response(3, ids[1], 10, T + 1, text="test", excluded_from_calculations=True),
        _response(4, ids[2], 7, T - 5, text="ok"),
        _response(5, ids[2], 5, T, text="worse"),
    ], {})
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.complete and win._total == SAMPLE_SIZE, timeout=10_000)
    yield win, ids
    win.close()


def _column(win: MainWindow, key: str) -> int:
    return [c.key for c in win.model.columns].index(key)


def test_the_score_columns_are_offered_filled_and_sorted(qtbot: QtBot, scored: tuple[MainWindow, list[int]]) -> None:
    win, ids = scored
    win.table.fill_columns_menu(win.columns_menu)
    titles = {a.text(): a for a in win.columns_menu.actions()}
    for title in ("Latest score", "Latest comment", "Responses"):
        assert title in titles and not titles[title].isChecked()
        titles[title].setChecked(True)  # what clicking it in View ▸ Columns does
    assert all(key in [c.key for c in win.model.columns] for key in COLUMNS)

    score, comment, count = (_column(win, key) for key in COLUMNS)
    win.model.sort(score, Qt.SortOrder.AscendingOrder)

    def top_rows() -> list[tuple[str, str, str]]:
        return [tuple(str(win.model.data(win.model.index(row, c)) or "") for c in (score, comment, count))
                for row in range(SAMPLE_SIZE - 3, SAMPLE_SIZE)]

    # Ascending: people without history first (empty), the three scored last, lowest first;
    # user 2's excluded 10 is not its latest score.
    qtbot.waitUntil(lambda: top_rows() == [("2", "Too slow", "2"), ("5", "worse", "2"), ("9", "Love it", "1")],
                    timeout=10_000)
    assert win.model.sort_spec.column == "latest_score"
    win.model.sort(count, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: str(win.model.data(win.model.index(0, count))) == "2", timeout=10_000)
    assert {win.model.data(win.model.index(r, score)) for r in range(2)} == {"2", "5"}



def test_completion_offers_nps_words_history_terms_and_the_cached_tags(
    qtbot: QtBot, services: AppServices, desk_cache: Cache
) -> None:
    first = sample_end_users()[0].id
    desk_cache.ingest_responses([_response(1, first, 3, T, tags=("Billing", "speed")),
                                 _response(2, first + 1, 9, T, tags=("billing",))], {})
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.loaded, timeout=10_000)
    bar = win.filter_bar
    bar.edit.setFocus()
    qtbot.keyClicks(bar.edit, "nps:")
    assert {"nps:detractor", "nps:passive", "nps:promoter"} <= set(bar.completer.model().stringList())
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "sc")
    assert "score:" in bar.completer.model().stringList()
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "tag:")
    # The tags load from the cache in the background, the most used first.
    qtbot.waitUntil(lambda: bar.completer.model().stringList()[:2] == ["tag:billing", "tag:speed"]
                    or bar.completer.model().stringList()[:2] == ["tag:Billing", "tag:speed"], timeout=10_000)
    win.close()
