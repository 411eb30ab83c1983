"""End users created here (an import) and their push: local ids, one create each, adoption."""

from __future__ import annotations

from desktop_app.api.client import WootricClient
from desktop_app.cache.records import AuditOutcome, EditKind
from desktop_app.cache.store import Cache
from desktop_app.cache.writes.creates import NewEndUser
from desktop_app.emulator import Emulator
from desktop_app.sync.push import lookup_emails, push_all

from .conftest import credentials


def _on_service(emu: Emulator, email: str) -> list[int]:
    found = []
    for end_user_id in emu.store.all_ids():
        row = emu.store.fetch(end_user_id)
        if row is not None and row.email.casefold() == email.casefold():
            found.append(end_user_id)
    return found


def test_created_rows_are_local_editable_and_mapped_to_the_service_id(emu: Emulator, cache: Cache) -> None:
    _changes, (ann, bob) = cache.import_end_users(
        [], [NewEndUser("Ann.New@Example.com", None, {"plan": "Pro"}), NewEndUser("bob.new@example.com")])
    assert ann < 0 and bob < 0
    row = cache.get(ann)
    assert row is not None and row.end_user.email == "Ann.New@Example.com"
    assert row.end_user.properties == {"plan": "Pro"}
    cache.set_property([bob], "seats_amount", 3)  # editable before the push
    cache.set_surveys_enabled([ann], False)
    cache.save_list("new people", [ann, bob], identifier_kind="email")

    with WootricClient(credentials(emu)) as client:
        client.authenticate()  # the token request is not the push's
        before = client.request_count
        result = push_all(client, cache)
        requests = client.request_count - before
    assert result.rejected == 0 and cache.pending_count() == 0
    [ann_id] = _on_service(emu, "Ann.New@Example.com")
    [bob_id] = _on_service(emu, "bob.new@example.com")
    assert not any(i < 0 for i in cache.all_ids())
    served = emu.store.fetch(bob_id)
    assert served is not None and served.properties == {"seats_amount": 3}  # carried by the POST
    ann_row = emu.store.fetch(ann_id)
    assert ann_row is not None and ann_row.surveys_disabled
    cached = cache.get(ann_id)
    assert cached is not None and cached.end_user.surveys_disabled and not cached.pending
    assert {e.end_user_id for e in cache.audit_log(limit=50)} == {ann_id, bob_id}
    assert all(e.outcome is AuditOutcome.PUSHED for e in cache.audit_log(limit=50))
    from desktop_app.cache.reading.query import EndUserQuery
    assert set(EndUserQuery(cache.engine).ids('list:"new people"')) == {ann_id, bob_id}
    # Lookups (each distinct case form once) + one POST each + the settings PUT's GET and PUT.
    lookups = len(lookup_emails("Ann.New@Example.com", "Ann.New@Example.com")) + 1
    print(f"push of 2 created end users: {requests} requests ({lookups} lookups, 2 creates, 2 for surveys)")
    assert requests == lookups + 2 + 2


def test_undo_before_the_push_removes_the_created_rows_and_posts_nothing(emu: Emulator, cache: Cache) -> None:
    cache.import_end_users([], [NewEndUser("gone.soon@example.com")])
    assert cache.count_all() == 1
    assert cache.undo() is not None
    assert cache.count_all() == 0 and cache.pending_count() == 0
    with WootricClient(credentials(emu)) as client:
        push_all(client, cache)
    assert _on_service(emu, "gone.soon@example.com") == []
    assert cache.redo() is not None  # and redo brings them back, under the same local id
    assert [i for i in cache.all_ids()] == [-1]


def test_a_create_sent_but_unanswered_adopts_the_id_instead_of_creating_twice(emu: Emulator, cache: Cache) -> None:
    _c, [local] = cache.import_end_users([], [NewEndUser("twice@example.com", None, {"plan": "pro"})])
    [create] = [e for e in cache.pending_for(local) if e.kind is EditKind.CREATE]
    cache.mark_sent(local, [create.id])
    with WootricClient(credentials(emu)) as client:
        # The POST reached the service, then the app died before storing the answer.
        made = client.create_end_user("twice@example.com", properties={"plan": "pro"})
        before = client.request_count
        push_all(client, cache)
        assert client.request_count - before == 1  # the lookup found it: no second POST
    assert _on_service(emu, "twice@example.com") == [made.id]
    assert sorted(cache.all_ids()) == [made.id]


def test_a_person_already_on_the_service_is_adopted_and_given_the_file_values(emu: Emulator, cache: Cache) -> None:
    existing = emu.store.add(email="known@example.com", properties={"region": "EU"})
    _c, [local] = cache.import_end_users([], [NewEndUser("known@example.com", None, {"plan": "pro"})])
    with WootricClient(credentials(emu)) as client:
        push_all(client, cache)
    assert _on_service(emu, "known@example.com") == [existing]
    served = emu.store.fetch(existing)
    assert served is not None and served.properties == {"region": "EU", "plan": "pro"}
    assert local not in cache.all_ids() and existing in cache.all_ids()


def test_created_then_deleted_before_the_push_sends_nothing(emu: Emulator, cache: Cache) -> None:
    _c, [local] = cache.import_end_users([], [NewEndUser("never@example.com")])
    cache.delete_end_users([local])
    with WootricClient(credentials(emu)) as client:
        client.authenticate()  # the token request is not the push's
        before = client.request_count
        push_all(client, cache)
        assert client.request_count == before
    assert cache.count_all() == 0 and cache.pending_count() == 0
    assert _on_service(emu, "never@example.com") == []


def test_a_pull_that_brought_the_created_person_in_first_merges_the_local_row_into_it(
        emu: Emulator, cache: Cache) -> None:
    _c, [local] = cache.import_end_users([], [NewEndUser("early@example.com", None, {"plan": "pro"})])
    cache.set_surveys_enabled([local], False)
    [create] = [e for e in cache.pending_for(local) if e.kind is EditKind.CREATE]
    cache.mark_sent(local, [create.id])
    with WootricClient(credentials(emu)) as client:
        made = client.create_end_user("early@example.com", properties={"plan": "pro"})
        cache.ingest_pulled([made], "end_users", made.updated_at)  # a pull ran before the push
        assert sorted(cache.all_ids()) == [local, made.id]
        push_all(client, cache)
    assert sorted(cache.all_ids()) == [made.id] and cache.pending_count() == 0
    assert _on_service(emu, "early@example.com") == [made.id]
    served = emu.store.fetch(made.id)
    assert served is not None and served.surveys_disabled  # the edit made on the local row went out


def test_a_deletion_check_leaves_people_created_here_alone(emu: Emulator, cache: Cache) -> None:
    from desktop_app.sync.reconcile import reconcile_deletions

    _c, [local] = cache.import_end_users([], [NewEndUser("not.yet@example.com")])
    with WootricClient(credentials(emu)) as client:
        assert reconcile_deletions(client, cache) == 0
    assert local in cache.all_ids()


def test_the_push_of_creates_costs_a_lookup_and_a_post_each(emu: Emulator, cache: Cache) -> None:
    people = [NewEndUser(f"count.{i}@example.com", None, {"plan": "pro", "seats_amount": i}) for i in range(40)]
    people += [NewEndUser(f"Mixed.{i}@Example.com") for i in range(10)]  # a second lookup: lowercased
    cache.import_end_users([], people)
    with WootricClient(credentials(emu)) as client:
        client.authenticate()
        before = client.request_count
        result = push_all(client, cache)
        requests = client.request_count - before
    lookups = 40 + 2 * 10
    print(f"push of {len(people)} created end users: {requests} requests against the bound of "
          f"{len(people)} creates + {lookups} lookups = {len(people) + lookups}")
    assert result.edits_done == len(people) and requests == len(people) + lookups
    assert not [i for i in cache.all_ids() if i < 0]


def test_dismissing_a_refused_create_removes_the_local_row(cache: Cache) -> None:
    _c, [local, kept] = cache.import_end_users([], [NewEndUser("refused@example.com"), NewEndUser("fine@example.com")])
    cache.set_property([local], "plan", "pro")
    [create] = [e for e in cache.pending_for(local) if e.kind is EditKind.CREATE]
    cache.reject_push(local, [create.id], "email is invalid", None)
    [rejected] = cache.rejected_edits()
    cache.dismiss_rejected(rejected.id)
    assert sorted(cache.all_ids()) == [kept]  # no row left that could never reach the service
    assert {e.outcome for e in cache.audit_log(local)} == {AuditOutcome.REJECTED, AuditOutcome.DISCARDED}
