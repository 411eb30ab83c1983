"""The relay hands cache broadcasts to the GUI thread, merged while the GUI thread is busy."""

from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.cache.store import Cache
from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.ui.services import MERGED_IDS_LIMIT, CacheChangesRelay, merge_changes

from .conftest import sample_end_users


def test_a_burst_of_pages_arrives_as_one_broadcast_in_order_with_edits(qtbot: QtBot, tmp_path: Path) -> None:
    users = sample_end_users(120)
    with Cache.open(tmp_path / "cache.sqlite3") as cache:
        relay = CacheChangesRelay(cache)
        delivered: list[CacheChanges] = []
        relay.delivered.connect(delivered.append)

        def sync_worker() -> None:  # pages and a local edit, written while the GUI thread is busy
            for start in range(0, 100, 50):
                cache.ingest_pulled(users[start:start + 50], "end_users.updated_at", 1)
            cache.set_property([users[0].id], "plan", "mine")
            cache.ingest_pulled(users[100:], "end_users.updated_at", 2)

        worker = threading.Thread(target=sync_worker)
        worker.start()
        worker.join(30)
        qtbot.waitUntil(lambda: len(delivered) == 3, timeout=10_000)
        pulled, edited, last = delivered
        assert pulled.initiator is Initiator.PULL and pulled.rows_added_or_removed
        assert pulled.end_user_ids == frozenset(u.id for u in users[:100])
        assert edited.initiator is Initiator.EDIT and edited.outbox_changed
        assert edited.end_user_ids == frozenset({users[0].id})
        assert last.initiator is Initiator.PULL and last.end_user_ids == frozenset(u.id for u in users[100:])

        cache.set_property([users[1].id], "plan", "later")  # the next turn: delivered again
        qtbot.waitUntil(lambda: len(delivered) == 4, timeout=10_000)
        relay.detach()


def test_merging_keeps_every_flag_and_says_refresh_all_when_ids_are_too_many() -> None:
    a = CacheChanges(Initiator.PUSH, frozenset({1}), outbox_changed=True)
    b = CacheChanges(Initiator.PUSH, frozenset({2}), rows_added_or_removed=True, conflicts_changed=True)
    merged = merge_changes(a, b)
    assert merged == CacheChanges(Initiator.PUSH, frozenset({1, 2}), rows_added_or_removed=True,
                                  outbox_changed=True, conflicts_changed=True)
    assert merge_changes(a, CacheChanges(Initiator.PUSH, None)).end_user_ids is None
    many = CacheChanges(Initiator.PULL, frozenset(range(MERGED_IDS_LIMIT)))
    assert merge_changes(many, CacheChanges(Initiator.PULL, frozenset({-1}))).end_user_ids is None
    keys = merge_changes(CacheChanges(Initiator.PULL, new_property_keys=frozenset({"plan"})),
                         CacheChanges(Initiator.PULL, new_property_keys=frozenset({"region"})))
    assert keys.new_property_keys == {"plan", "region"}  # a merged burst loses no new key
