"""The suppression list: people erased (or being erased) here are held back from a list's
match report and refused by an import or a create, by salted hash, in bulk."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from desktop_app.cache.store import Cache
from desktop_app.lists.actions import erase_warning
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import match_list
from desktop_app.lists.suppression import CacheSuppression, SuppressedIdentifiers, refuse_suppressed
from desktop_app.lists.wanted import ActionKind, ListAction

EMAIL = IdentifierKind.EMAIL


def erase(cache: Cache, ids: Sequence[int], *, purged: bool) -> None:
    """What a push of the delete does (record, 202), and what the reconcile does after the
    purge: the cache's own calls, in their order."""
    cache.delete_end_users(list(ids))
    for end_user_id in ids:
        cache.erasure_sent(end_user_id)
        cache.complete_push(end_user_id, [e.id for e in cache.pending_for(end_user_id)], None,
                            erasure_accepted=True)
    if purged:
        cache.remove_end_users(list(ids))


def test_the_match_report_shows_erased_and_pending_people_as_suppressed(crowd: Cache) -> None:
    erase(crowd, [9], purged=True)
    erase(crowd, [11], purged=False)
    assert crowd.get(9) is None and crowd.get(11).erasure_pending
    report = match_list(crowd, EMAIL, [" USER9@example.com", "user10@example.com", "User11@Example.com"],
                        ListAction(ActionKind.DISABLE_SURVEYS), suppression=CacheSuppression(crowd))
    assert [s.identifier for s in report.suppressed] == ["USER9@example.com", "User11@Example.com"]
    assert [m.id for m in report.matched] == [10]
    # by Wootric id too; an external id never given is never suppressed
    report = match_list(crowd, IdentifierKind.WOOTRIC_ID, ["9", "0011", "10"], None,
                        suppression=CacheSuppression(crowd))
    assert [s.identifier for s in report.suppressed] == ["9", "0011"]
    assert crowd.suppressed("external_id", ["cus_8"]) == set()


def test_without_the_suppression_a_person_being_erased_is_refused_not_changed(crowd: Cache) -> None:
    erase(crowd, [11], purged=False)
    report = match_list(crowd, EMAIL, ["user11@example.com"], ListAction(ActionKind.SET_PROPERTY, "plan", "pro"))
    assert [(r.id, r.reason) for r in report.refused] == [(11, "being erased: the service took the delete and purges them soon")]


def test_an_import_or_create_of_a_suppressed_email_is_refused_with_a_clear_message(crowd: Cache) -> None:
    erase(crowd, [9, 10], purged=True)
    refuse_suppressed(crowd, ["new.person@example.com", "user12@example.com"])  # nobody erased: silent
    with pytest.raises(SuppressedIdentifiers) as raised:
        refuse_suppressed(crowd, ["new.person@example.com", "User9@Example.com ", "user10@example.com"])
    assert raised.value.identifiers == ("User9@Example.com", "user10@example.com")
    message = str(raised.value)
    assert "2 people were erased" in message and "User9@Example.com, user10@example.com" in message
    assert "nothing was written" in message


def test_a_cache_that_never_erased_anyone_suppresses_nothing(crowd: Cache) -> None:
    assert crowd.suppressed("email", ["user1@example.com"]) == set()
    assert crowd.erasures() == []


def test_checking_100k_emails_takes_well_under_a_second(crowd: Cache) -> None:
    erase(crowd, [4, 9], purged=True)
    emails = [f"someone{n}@example.org" for n in range(100_000)] + ["USER9@EXAMPLE.COM"]
    started = time.perf_counter()
    found = crowd.suppressed("email", emails)
    took = time.perf_counter() - started
    print(f"suppression check of {len(emails):,} emails: {took * 1000:.0f} ms")
    assert found == {"USER9@EXAMPLE.COM"}
    assert took < 1.0


def test_the_erase_preview_warns_how_many_opted_out_themselves(crowd: Cache) -> None:
    report = match_list(crowd, EMAIL, ["user4@example.com", "user5@example.com", "user10@example.com"],
                        ListAction(ActionKind.ERASE))
    words = erase_warning(report)
    assert words.startswith("1 of them opted out of surveys themselves")  # 4; 5 is an admin's
    assert "surveyed again" in words
    assert erase_warning(match_list(crowd, EMAIL, ["user10@example.com"], ListAction(ActionKind.ERASE))) == ""
    assert erase_warning(match_list(crowd, EMAIL, ["user4@example.com"], ListAction(ActionKind.DISABLE_SURVEYS))) == ""


def test_a_list_job_and_an_import_hold_back_erased_people_without_being_told(crowd: Cache, tmp_path) -> None:
    """The window's and apply-list's job, and the import verb, use the cache's own list."""
    from desktop_app.lists.importing import NewPeople, plan_import, read_upload
    from desktop_app.lists.job import ListJob
    from desktop_app.lists.reading import read_pasted

    erase(crowd, [9], purged=True)
    job = ListJob(read_pasted("user9@example.com\nuser10@example.com\n"), 0, EMAIL,
                  ListAction(ActionKind.DISABLE_SURVEYS))
    report = job.match(crowd)
    assert [s.identifier for s in report.suppressed] == ["user9@example.com"]
    upload = tmp_path / "people.csv"
    upload.write_text("email,plan\nuser9@example.com,pro\nbrand.new@example.com,pro\n", encoding="utf-8")
    plan = plan_import(crowd, read_upload(upload), NewPeople.CREATE, suppression=CacheSuppression(crowd))
    assert [s.identifier for s in plan.report.suppressed] == ["user9@example.com"]
    assert [row.email for row in plan.new] == ["brand.new@example.com"]
