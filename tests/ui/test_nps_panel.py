"""The NPS panel (View ▸ NPS) follows the filter: its numbers are the NPS of the end users the
table shows over the chosen period, read off the GUI thread ("Counting…" meanwhile), with an
empty state, charts that say what they show, and keyboard reach."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.cache.reading.nps import round_half_away
from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyResponse
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.nps_panel import PERIODS

from .accessibility_audit import accessibility_problems
from .conftest import sample_end_users

WAIT_MS = 10_000
DAY = 86_400
USERS = sample_end_users()
PLAN_SCORES = {"free": 3, "pro": 9, "team": 7, "enterprise": 10}


def _responses(now: float) -> list[SurveyResponse]:
    out = []
    for n, user in enumerate(USERS):
        score = PLAN_SCORES[str(user.properties["plan"])] if n % 4 else n % 11
        created = int(now) - (n % 60) * DAY - 3600
        out.append(SurveyResponse(id=n + 1, end_user_id=user.id, score=score, created_at=created,
                                  updated_at=created, excluded_from_calculations=n % 25 == 0))
    # one answer two years ago: only "All time" holds it
    old = int(now) - 730 * DAY
    out.append(SurveyResponse(id=10_000, end_user_id=USERS[1].id, score=0, created_at=old, updated_at=old))
    return out


def _expected(responses: list[SurveyResponse], plan: str | None, since: int) -> list[int]:
    plans = {u.id: u.properties["plan"] for u in USERS}
    counts = [0] * 11
    for r in responses:
        if not r.excluded_from_calculations and r.created_at >= since and plan in (None, plans[r.end_user_id]):
            counts[r.score] += 1
    return counts


def _settled(window: MainWindow) -> bool:
    panel = window.nps
    return panel.report is not None and not panel.counting and not panel._timer.isActive()


def test_the_panel_follows_the_filter_and_the_period(qtbot: QtBot, window: MainWindow, desk_cache: Cache) -> None:
    now = time.time()
    responses = _responses(now)
    desk_cache.ingest_responses(responses, {})
    panel = window.nps
    assert not window.nps_dock.isVisible() and panel.report is None  # hidden: nothing read
    window.show_nps_action.trigger()
    assert panel.counting  # the read runs on a worker; the panel says so meanwhile
    qtbot.waitUntil(lambda: _settled(window), timeout=WAIT_MS)
    recent = _expected(responses, None, int(now) - 200 * DAY)
    assert list(panel.report.counts.distribution) == recent
    nps = panel.report.counts.nps
    assert panel.score.text() == (f"+{nps}" if nps > 0 else str(nps))
    assert panel.promoters.text() == f"{recent[9] + recent[10]:,} ({(recent[9] + recent[10]) / sum(recent) * 100:.0f}%)"

    qtbot.keyClicks(window.filter_bar.edit, "plan:pro")
    qtbot.waitUntil(lambda: _settled(window) and list(panel.report.counts.distribution)
                    == _expected(responses, "pro", 0), timeout=WAIT_MS)
    pro = _expected(responses, "pro", 0)
    pro_nps = round_half_away(100 * (pro[9] + pro[10] - sum(pro[:7])) / sum(pro))
    assert panel.score.text() == (f"+{pro_nps}" if pro_nps > 0 else str(pro_nps))
    assert panel.bars.counts == tuple(pro)
    assert panel.bars.accessibleDescription().startswith("Responses by score, 0 to 10 — 0: ")
    assert "responses)" in panel.line.accessibleDescription()

    window.filter_bar.clear()
    qtbot.keyClicks(window.filter_bar.edit, "plan:nobody")
    qtbot.waitUntil(lambda: _settled(window) and panel.report.empty, timeout=WAIT_MS)
    assert panel.empty.isVisible() and not panel.bars.isVisible() and not panel.line.isVisible()
    assert panel.status.text() == "No responses for this filter in the period"
    assert panel.score.text() == "–"

    window.filter_bar.clear()
    qtbot.waitUntil(lambda: _settled(window) and not panel.report.empty, timeout=WAIT_MS)
    panel.period.setCurrentIndex([m for _t, m in PERIODS].index(None))  # All time
    qtbot.waitUntil(lambda: _settled(window) and panel.report.counts.responses == sum(recent) + 1,
                    timeout=WAIT_MS)
    assert panel.report.counts.distribution[0] == recent[0] + 1 and len(panel.report.months) >= 24


def test_new_responses_from_a_sync_are_counted(qtbot: QtBot, window: MainWindow, desk_cache: Cache) -> None:
    window.show_nps_action.trigger()
    qtbot.waitUntil(lambda: _settled(window) and window.nps.report.empty, timeout=WAIT_MS)
    now = int(time.time())
    window.nps.data_changed = window.nps.refresh
    desk_cache.ingest_responses([SurveyResponse(1, USERS[0].id, 10, now - 60, now - 60)], {})
    qtbot.waitUntil(lambda: _settled(window) and window.nps.report.counts.promoters == 1, timeout=WAIT_MS)
    assert window.nps.score.text() == "+100" and window.nps.bars.isVisible()


def test_the_panel_is_reached_by_keyboard_and_named(qtbot: QtBot, window: MainWindow, desk_cache: Cache) -> None:
    desk_cache.ingest_responses(_responses(time.time()), {})
    window.show_nps_action.trigger()
    qtbot.waitUntil(lambda: _settled(window), timeout=WAIT_MS)
    window.activateWindow()
    panel = window.nps
    panel.period.setFocus()
    qtbot.keyClick(panel.period, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: panel.bars.hasFocus(), timeout=WAIT_MS)
    qtbot.keyClick(panel.bars, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: panel.line.hasFocus(), timeout=WAIT_MS)
    assert panel.bars.accessibleName() == "Score distribution" and panel.line.accessibleName() == "NPS by month"
    assert panel.score.accessibleName() == f"NPS: {panel.score.text()}"
    assert accessibility_problems([window]) == []
