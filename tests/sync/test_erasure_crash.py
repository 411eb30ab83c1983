"""A crash between the service's 202 and the cache's commit of it, and what the file keeps.

The process dies after the DELETE reached the service but before `complete_push` committed
(the one test double: that step raising, where a real kill would land). The erasure record was
committed durably before the request, with the person's identifiers as salted hashes, and the
outbox entry is still queued: the next sync sends the DELETE again (the service answers 202
again) or, once purged, finds the person gone (404). Either way it converges.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.push import push_end_user

from .conftest import cache_view, credentials, server_view


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs."""


def _sync(emu: Emulator, path: Path, *, reconcile: bool = False) -> None:
    with Cache.open(path) as cache:
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))
        try:
            service.run_once(reconcile=reconcile)
        finally:
            service.stop()


def _crash_after_the_202(emu: Emulator, path: Path, leaving: int) -> None:
    with Cache.open(path) as cache:
        cache.delete_end_users([leaving])

        def killed(*args: object, **kwargs: object) -> None:
            raise Killed()

        cache.complete_push = killed
        with pytest.raises(Killed):
            push_end_user(WootricClient(credentials(emu)), cache, leaving)
    assert leaving in emu.store.marked()  # the service took it


@pytest.mark.parametrize("purged_meanwhile", [False, True], ids=["still-marked", "purged"])
def test_a_crash_between_the_202_and_its_commit_converges(
        emu: Emulator, tmp_path: Path, purged_meanwhile: bool) -> None:
    path = tmp_path / "account.sqlite3"
    _sync(emu, path)
    leaving = sorted(emu.store.all_ids())[4]
    _crash_after_the_202(emu, path, leaving)
    with Cache.open(path) as cache:  # as after the restart
        cached = cache.get(leaving)
        assert cached is not None and cached.pending_delete and len(cached.pending) == 1
        [record] = cache.erasures()
        assert record.state == "pending" and record.sent_at is not None and record.accepted_at is None
        assert cache.undo_state().undo is None  # it was on the wire: no undo brings them back
    if purged_meanwhile:
        emu.store.purge_marked()
    _sync(emu, path)
    with Cache.open(path) as cache:
        [record] = cache.erasures()
        if purged_meanwhile:  # the GET found nobody: erased at once
            assert cache.get(leaving) is None and record.state == "erased"
        else:  # the DELETE went out again, 202 again
            assert cache.get(leaving).erasure_pending and record.state == "pending"
            assert record.accepted_at is not None and not cache.pending_count()
    emu.store.purge_marked()
    _sync(emu, path, reconcile=True)
    with Cache.open(path) as cache:
        assert cache.get(leaving) is None
        assert [(r.end_user_id, r.state) for r in cache.erasures()] == [(leaving, "erased")]
        assert cache_view(cache) == server_view(emu)


def _file_bytes(folder: Path) -> bytes:
    """The cache file with its WAL and any copy beside it, as on disk."""
    return b"".join(p.read_bytes() for p in folder.glob("account.sqlite3*"))


def test_the_cache_file_never_holds_an_erased_identifier_in_plain_text(
        emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "account.sqlite3"
    leaving, purged_first = sorted(emu.store.all_ids())[2:4]
    emu.store.update(leaving, email="Unique.Erasure.Probe@Example.org", external_id="crm-erase-probe-77")
    emu.store.update(purged_first, email="Second.Probe@Example.org")
    _sync(emu, path)
    data = _file_bytes(tmp_path)
    assert b"Unique.Erasure.Probe@Example.org" in data and b"Second.Probe@Example.org" in data
    with Cache.open(path) as cache:
        assert cache.survey_summary(purged_first) is not None  # their responses are cached
        cache.delete_end_users([leaving, purged_first])
    emu.store.delete(purged_first)  # gone before our push: its GET answers 404 (the other path)
    _sync(emu, path)
    emu.store.purge_marked()
    _sync(emu, path, reconcile=True)
    with Cache.open(path) as cache:
        assert cache.get(leaving) is None and cache.get(purged_first) is None
        assert {r.state for r in cache.erasures()} == {"erased"}
        assert cache.suppressed("email", ["second.probe@example.org"])
        assert cache.suppressed("email", ["  unique.erasure.probe@example.ORG "])
        assert cache.suppressed("external_id", ["crm-erase-probe-77"]) == {"crm-erase-probe-77"}
    data = _file_bytes(tmp_path)
    for plain in ("Unique.Erasure.Probe@Example.org", "unique.erasure.probe@example.org", "crm-erase-probe-77",
                  "Second.Probe@Example.org"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert plain.encode(encoding) not in data, (plain, encoding)
