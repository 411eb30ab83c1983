"""Random sequences of edits, pulls, push outcomes, conflicts and undos keep every invariant.

After each step the effective rows must equal the server rows with the laid edits applied in
Python, so the bulk SQL of a fresh edit and the Python re-lay can never drift apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.cache.records import EditKind, EditRejected, EditState
from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser, SurveySettings

USERS = 8
KEYS = ("plan", "seats", "tags", "key with \"quote\"")
values = st.one_of(
    st.text(max_size=12), st.integers(-10**6, 10**6), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.lists(st.text(max_size=5), max_size=3),
)
ids = st.lists(st.integers(1, USERS), min_size=1, max_size=USERS, unique=True)
settings_choice = st.sampled_from([
    SurveySettings(), SurveySettings.all_channels(False),
    SurveySettings(surveys_disabled_by_end_user=True), SurveySettings(email_nps=False),
])


def step(cache: Cache, data: st.DataObject, make_user: Callable[..., EndUser],
         tick: list[int]) -> None:
    action = data.draw(st.sampled_from([
        "set", "unset", "email", "external", "surveys", "delete", "undo", "redo", "pull",
        "push", "reject", "conflict", "resolve",
    ]))
    tick[0] += 1
    try:
        if action == "set":
            cache.set_property(data.draw(ids), data.draw(st.sampled_from(KEYS)), data.draw(values))
        elif action == "unset":
            cache.unset_property(data.draw(ids), data.draw(st.sampled_from(KEYS)))
        elif action == "email":
            cache.set_email(data.draw(st.integers(1, USERS)), f"e{tick[0]}@example.com")
        elif action == "external":
            cache.set_external_id(data.draw(st.integers(1, USERS)),
                                  data.draw(st.one_of(st.none(), st.just(f"x{tick[0]}"))))
        elif action == "surveys":
            cache.set_surveys_enabled(data.draw(ids), data.draw(st.booleans()))
        elif action == "delete":
            cache.delete_end_users(data.draw(ids))
        elif action == "undo":
            cache.undo()
        elif action == "redo":
            cache.redo()
        elif action == "pull":
            pulled = [make_user(i, updated_at=2_000_000_000 + tick[0],
                                email=f"pulled{tick[0]}@example.com",
                                properties={"plan": f"p{tick[0]}", "seats": i},
                                settings=data.draw(settings_choice))
                      for i in data.draw(ids)]
            cache.ingest_pulled(pulled, "c", tick[0])
        else:
            sync_outcome(cache, data, action, tick[0])
    except EditRejected:
        pass  # a rejected edit must have written nothing; the invariants check that too


def sync_outcome(cache: Cache, data: st.DataObject, action: str, tick: int) -> None:
    if action == "resolve":
        conflicts = cache.conflicts()
        if conflicts:
            conflict = data.draw(st.sampled_from(conflicts))
            choice = data.draw(st.sampled_from(["mine", "theirs", "value"]))
            value = {"properties": "chosen", "email": "chosen@example.com", "external_id": "c",
                     "surveys": False, "delete": True}[conflict.field]
            cache.resolve_conflict(conflict.id, choice, value)
        return
    waiting = cache.end_users_with_pending()
    if not waiting:
        return
    user_id = data.draw(st.sampled_from(waiting))
    row = cache.get(user_id)
    assert row is not None and row.server is not None
    queued = [e for e in row.pending if e.state is EditState.QUEUED]
    server = replace(row.end_user, updated_at=2_000_000_000 + tick)
    if action == "push":
        gone = any(e.kind is EditKind.DELETE for e in queued)
        cache.complete_push(user_id, [e.id for e in queued], None if gone else server)
    elif action == "reject":
        cache.reject_push(user_id, [queued[0].id], "refused", None)
    else:
        cache.record_conflicts(user_id, [(queued[0].id, "theirs")],
                               replace(row.server, updated_at=2_000_000_000 + tick))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_histories_keep_the_invariants(data: st.DataObject,
                                              make_user: Callable[..., EndUser],
                                              invariants: Callable[[Cache], None]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Cache.open(Path(tmp) / "c.sqlite3") as cache:
        cache.ingest_pulled([make_user(i, settings=SurveySettings(surveys_disabled_by_end_user=i == 2))
                             for i in range(1, USERS + 1)], "c", 0)
        tick = [0]
        for _ in range(data.draw(st.integers(1, 25))):
            step(cache, data, make_user, tick)
            invariants(cache)
