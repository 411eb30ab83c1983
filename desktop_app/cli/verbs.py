"""The command-line verbs over the Qt-free core: list, edit, sync, conflicts, status, export,
apply-list."""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from desktop_app import accounts
from desktop_app.api.account import REGIONS
from desktop_app.api.client import WootricClient
from desktop_app.api.errors import AuthError, WootricError
from desktop_app.cache.records import ConflictChoice
from desktop_app.cli.errors import printable
from desktop_app.cli.session import (
    EXIT_ATTENTION,
    EXIT_OFFLINE,
    EXIT_OK,
    EXIT_SIGN_IN,
    EXIT_USAGE,
    CommandError,
    Session,
    open_session,
)
from desktop_app.credentials import open_credential_store
from desktop_app.fields import FIELDS_BY_KEY, PROPERTY_PREFIX, FieldKind, property_key, sort_names
from desktop_app.property_types import parse_property_text
from desktop_app.sync import SyncService, SyncState, SyncStatus
from desktop_app.timestamps import iso_utc

if TYPE_CHECKING:
    from desktop_app.cache.records import PendingEdit
    from desktop_app.cache.reading.query import ResultRow, SortSpec
    from desktop_app.lists.wanted import ListAction


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- account ---------------------------------------------------------------------------------

def cmd_login(args: argparse.Namespace) -> int:
    base = args.base_url or REGIONS[args.region]
    password_grant = bool(args.username)
    identity = args.username or args.client_id or os.environ.get(accounts.ENV_CLIENT_ID, "")
    if not identity:
        raise CommandError("Give --client-id (or --username for the password grant).", EXIT_USAGE)
    try:  # the arguments first, then the keyring, then the secret
        base = accounts.normalize_base_url(base)
    except ValueError as error:
        raise CommandError(f"--base-url: {error}", EXIT_USAGE) from None
    store = open_credential_store()
    status = store.status()  # before asking for the secret: without a keyring it cannot be kept
    if not status.available:
        raise CommandError(
            f"No system keyring ({status.reason}). The command line cannot keep a secret in "
            "memory between runs: use WOOTRIC_CLIENT_ID / WOOTRIC_CLIENT_SECRET instead.",
            EXIT_SIGN_IN)
    secret = os.environ.get(accounts.ENV_CLIENT_SECRET, "")
    if not secret:
        if not sys.stdin.isatty():
            raise CommandError("No secret: set WOOTRIC_CLIENT_SECRET or run in a terminal.", EXIT_USAGE)
        secret = getpass.getpass("Password: " if password_grant else "Client secret: ")
    profile = accounts.AccountProfile(
        base_url=base,
        auth_method=accounts.AuthMethod.PASSWORD if password_grant else accounts.AuthMethod.CLIENT_CREDENTIALS,
        client_id="" if password_grant else identity,
        username=identity if password_grant else "",
        account_token=args.account_token or "",
        region=args.region if not args.base_url else "custom",
    )
    candidate = accounts.SignedInAccount(profile, secret, "prompt")
    with WootricClient(candidate.credentials()) as client:
        try:
            client.authenticate()
        except AuthError as error:
            raise CommandError(f"Sign-in refused: {error}", EXIT_SIGN_IN) from None
        except WootricError as error:
            raise CommandError(f"Could not reach the service: {error}", EXIT_OFFLINE) from None
    accounts.sign_in(profile, secret, store)
    print(f"Signed in as {profile.display_name}; the secret is in the {status.backend}.")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    profile = accounts.sign_out(open_credential_store())
    print(f"Signed out of {profile.display_name}." if profile else "Nobody was signed in.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    session = open_session()
    try:
        cache = session.cache
        print(f"Account:   {session.profile.display_name}")
        print(f"Cache:     {printable(str(cache.path))}")  # the data directory may hold any bytes
        print(f"End users: {cache.count_all():,}")
        print(f"Pending:   {cache.pending_count():,} edits")
        print(f"Conflicts: {cache.conflict_count():,}")
        print(f"Rejected:  {len(cache.rejected_edits()):,}")
        last = cache.last_successful_sync()
        print(f"Last sync: {iso_utc(last) if last else 'never'}")
        for run in cache.last_sync_runs(5):
            counts = ", ".join(f"{k} {v:,}" for k, v in run.counts.items() if v)
            reason = f" ({run.reason})" if run.reason else ""
            print(f"  {iso_utc(run.started_at)}  {run.kind} {run.outcome}{reason}  {counts}")
    finally:
        session.close()
    return EXIT_OK


# --- reading ---------------------------------------------------------------------------------

def _sort(args: argparse.Namespace) -> SortSpec:
    from desktop_app.cache.reading.query import SortSpec

    try:
        return SortSpec(args.sort, descending=args.desc)
    except ValueError:
        choices = ", ".join(sort_names())
        raise CommandError(f"Cannot sort by {args.sort!r}: --sort takes one of {choices}, "
                           "or prop:KEY for a property.", EXIT_USAGE) from None


def _list_column(name: str) -> str:
    """A `list --columns` name: a field of the catalogue (`latest_score`), `prop:KEY`, or, as
    before, a bare property key."""
    name = name.strip()
    if name in FIELDS_BY_KEY or property_key(name) is not None:
        return name
    return PROPERTY_PREFIX + name


def _format_row(row: ResultRow, columns: Sequence[str]) -> list[str]:
    out = []
    for column in columns:
        key = property_key(column)
        if key is not None:
            value = row.properties.get(key)
            out.append("" if value is None else (", ".join(value) if isinstance(value, list) else str(value)))
        elif column == "surveys":
            out.append(f"off ({row.disabled_by})" if row.surveys_disabled else "on")
        elif column == "state":
            out.append(("conflict " if row.has_conflict else "") + ("pending" if row.pending_count else ""))
        else:
            value = getattr(row, column)
            dated = FIELDS_BY_KEY[column].kind is FieldKind.DATE
            out.append(iso_utc(value) if dated and value else
                       "" if value is None else str(value))
    return out


def cmd_list(args: argparse.Namespace) -> int:
    from desktop_app.cache.reading.query import EndUserQuery

    session = open_session()
    try:
        query = EndUserQuery(session.cache.engine)
        if args.count:
            print(query.count(args.filter))
            return EXIT_OK
        rows = query.page(args.filter, _sort(args), 0, args.limit)
        if args.format == "ids":
            for row in rows:
                print(row.id)
        elif args.format == "json":
            for row in rows:
                print(json.dumps({"id": row.id, "email": row.email, "external_id": row.external_id,
                                  "surveys_disabled": row.surveys_disabled,
                                  "disabled_by": str(row.disabled_by), "updated_at": row.updated_at,
                                  "last_surveyed": row.last_surveyed, "properties": row.properties,
                                  "pending": row.pending_count, "conflict": row.has_conflict},
                                 ensure_ascii=False))
        else:
            columns = ["id", "email", "external_id", "surveys", "state"]
            columns += [_list_column(c) for c in args.columns.split(",")] if args.columns else []
            table = [[c.removeprefix(PROPERTY_PREFIX) for c in columns]] + [_format_row(r, columns) for r in rows]
            widths = [min(40, max(len(line[i]) for line in table)) for i in range(len(columns))]
            for line in table:
                print("  ".join(cell[:40].ljust(w) for cell, w in zip(line, widths)).rstrip())
            total = query.count(args.filter)
            _err(f"{len(rows):,} of {total:,} matching end users shown")
    finally:
        session.close()
    return EXIT_OK


# --- editing ---------------------------------------------------------------------------------

def _targets(session: Session, args: argparse.Namespace) -> list[int]:
    """The end users an edit verb applies to: --id, or everything --filter matches."""
    if args.id:
        missing = [i for i in args.id if session.cache.get(i) is None]
        if missing:
            raise CommandError(f"No end user with id {', '.join(map(str, missing))} in the cache.",
                               EXIT_USAGE)
        return list(args.id)
    if args.filter is None:
        raise CommandError("Say which end users: --id N (repeatable) or --filter QUERY.", EXIT_USAGE)
    from desktop_app.cache.reading.query import EndUserQuery, SortSpec

    ids = list(EndUserQuery(session.cache.engine).ids(args.filter, SortSpec("id")))
    if len(ids) > 1 and not args.yes:
        raise CommandError(f"The filter matches {len(ids):,} end users: add --yes to change them all.",
                           EXIT_USAGE)
    return ids


def _edit(args: argparse.Namespace, action: str) -> int:
    session = open_session()
    try:
        cache = session.cache
        ids = _targets(session, args)
        if not ids:
            print("No end user matches; nothing changed.")
            return EXIT_OK
        if action == "set-property":
            cache.set_property(ids, args.key, parse_property_text(args.key, args.value))
        elif action == "unset-property":
            cache.unset_property(ids, args.key)
        elif action in ("disable-surveys", "enable-surveys"):
            cache.set_surveys_enabled(ids, action == "enable-surveys")
        elif action == "set-email":
            cache.set_email(ids[0], args.email)
        elif action == "set-external-id":
            cache.set_external_id(ids[0], args.external_id or None)
        elif action == "delete":
            cache.delete_end_users(ids)
        print(f"{action}: {len(ids):,} end user(s) changed locally; "
              f"{cache.pending_count():,} edits wait for the next sync.")
    except ValueError as error:  # EditRejected and bad property text alike
        raise CommandError(str(error), EXIT_USAGE) from None
    finally:
        session.close()
    return EXIT_OK


def cmd_edit(action: str) -> Callable[[argparse.Namespace], int]:
    return lambda args: _edit(args, action)


def cmd_conflicts(args: argparse.Namespace) -> int:
    session = open_session()
    try:
        cache = session.cache
        if args.resolve is not None:
            if args.choice not in {choice.value for choice in ConflictChoice}:
                raise CommandError("--choice is mine, theirs or value", EXIT_USAGE)
            choice = ConflictChoice(args.choice)
            value = None
            if choice is ConflictChoice.VALUE:
                if args.value is None:
                    raise CommandError("--choice value needs --value", EXIT_USAGE)
                value = args.value
            cache.resolve_conflict(args.resolve, choice, value)
            print(f"Conflict {args.resolve} resolved ({args.choice}).")
            return EXIT_OK
        conflicts = cache.conflicts()
        for c in conflicts:
            what = f"{c.field}[{c.key}]" if c.key else c.field
            print(f"#{c.id}  {c.email}  {what}: base={c.base!r} mine={c.mine!r} theirs={c.theirs!r}")
        rejected = cache.rejected_edits()
        for edit in rejected:
            print(f"rejected edit #{edit.id} of end user {edit.end_user_id}: {edit.message}")
        if rejected:
            _err("Dismiss a rejected edit with `wootric-desk rejected --dismiss ID` (or --all).")
        if not conflicts:
            _err("No conflicts.")
    finally:
        session.close()
    return EXIT_OK


def _describe_edit(edit: PendingEdit) -> str:
    what = edit.kind.value + (f" {edit.key}" if edit.key else "")
    return f"{what} = {edit.value!r}" if edit.value is not None else what


def cmd_rejected(args: argparse.Namespace) -> int:
    """The edits the service refused: listed, or dismissed so that `sync` can end with 0 again."""
    session = open_session()
    try:
        cache = session.cache
        rejected = {edit.id: edit for edit in cache.rejected_edits()}
        if args.all or args.dismiss:
            if args.all and args.dismiss:
                raise CommandError("Give --dismiss ID or --all, not both.", EXIT_USAGE)
            ids = list(rejected) if args.all else list(dict.fromkeys(args.dismiss))
            unknown = [i for i in ids if i not in rejected]
            if unknown:
                raise CommandError(
                    f"No rejected edit #{', #'.join(map(str, unknown))}: `wootric-desk rejected` "
                    "lists them. Nothing was dismissed.", EXIT_USAGE)
            for edit_id in ids:
                cache.dismiss_rejected(edit_id)
            print(f"Dismissed {len(ids):,} rejected edit(s); the audit keeps what the service said.")
            return EXIT_OK
        for edit in rejected.values():
            print(f"#{edit.id}  end user {edit.end_user_id}  {_describe_edit(edit)}: {edit.message}")
        _err(f"{len(rejected):,} rejected edits." + (
            " Dismiss with `wootric-desk rejected --dismiss ID` (repeatable) or --all; edit the "
            "end user again to retry." if rejected else ""))
    finally:
        session.close()
    return EXIT_OK


# --- sync ------------------------------------------------------------------------------------

def rate_limit_notice(next_try_at: float, now: float) -> str:
    """The line a rate-limit wait gets on stderr: what is happening and when the next try is."""
    seconds = max(0, math.ceil(next_try_at - now))
    at = time.strftime("%H:%M:%S", time.localtime(next_try_at))
    return f"The service is rate-limiting requests; next try at {at} (in {seconds} s)."


def cmd_sync(args: argparse.Namespace) -> int:
    session = open_session(need_account=True)
    try:
        service = SyncService(session.cache, session.client_factory())
        last_line = [0.0]
        told_until: list[float | None] = [None]

        def show(status: SyncStatus) -> None:
            if status.state is SyncState.SYNCING and status.next_retry_at is not None:
                # a rate-limit wait: said every time, --quiet or not (it may last minutes)
                if status.next_retry_at != told_until[0]:
                    told_until[0] = status.next_retry_at
                    _err(rate_limit_notice(status.next_retry_at, service.clock.now()))
                return
            now = time.monotonic()
            if args.quiet or (status.state is SyncState.SYNCING and now - last_line[0] < 1.0):
                return
            last_line[0] = now
            bits = [status.phase or status.state.value, f"{status.done:,} done"]
            if status.rate_per_s:
                bits.append(f"{status.rate_per_s:,.0f}/s")
            if status.eta_s is not None:
                bits.append(f"ETA {status.eta_s:,.0f}s")
            _err("  ".join(bits))

        service.subscribe(show)
        try:
            status = service.run_once(reconcile=True if args.reconcile else None)
        except KeyboardInterrupt:
            service.cancel()
            raise
        finally:
            service.stop()
        if status.state in (SyncState.OFFLINE, SyncState.AUTH_FAILED, SyncState.FAILED):
            _err(f"wootric-desk: {status.message}")  # a failure is said where errors go
        else:
            print(status.message)
        if status.state is SyncState.OFFLINE:
            return EXIT_OFFLINE
        if status.state is SyncState.AUTH_FAILED:
            return EXIT_SIGN_IN
        if status.state is SyncState.FAILED:
            return 1
        if status.conflicts or status.rejected:
            _err(f"{status.conflicts} conflicts and {status.rejected} rejected edits need you: "
                 "`wootric-desk conflicts` (resolve) and `wootric-desk rejected` (dismiss).")
            return EXIT_ATTENTION
        return EXIT_OK
    finally:
        session.close()


def cmd_export(args: argparse.Namespace) -> int:
    from desktop_app.cache.reading.query import EndUserQuery
    from desktop_app.export import ExportOptions, TimestampFormat, export_csv

    session = open_session()
    try:
        query = EndUserQuery(session.cache.engine)
        options = ExportOptions(
            columns=args.columns.split(",") if args.columns else None,
            timestamps=TimestampFormat.UNIX if args.unix_timestamps else TimestampFormat.ISO,
            bom=args.bom,
            neutralize_formulas=not args.keep_formulas,
            sort=_sort(args),
        )
        destination = sys.stdout if args.output == "-" else args.output

        def progress(done: int, total: int) -> None:
            if args.output != "-" and total and (done == total or done % 50_000 == 0):
                _err(f"exported {done:,} of {total:,}")

        result = export_csv(query, args.filter, destination, options, progress=progress)
        if args.output != "-":
            print(f"Exported {result.rows:,} end users to {printable(args.output)}")
    finally:
        session.close()
    return EXIT_OK


# --- lists -----------------------------------------------------------------------------------

def _list_action(args: argparse.Namespace) -> ListAction | None:
    from desktop_app.lists.wanted import ActionKind, ListAction

    if args.disable_surveys:
        return ListAction(ActionKind.DISABLE_SURVEYS)
    if args.enable_surveys:
        return ListAction(ActionKind.ENABLE_SURVEYS)
    if args.set is not None:
        key, text = args.set
        return ListAction(ActionKind.SET_PROPERTY, key, parse_property_text(key, text))
    if args.unset is not None:
        return ListAction(ActionKind.UNSET_PROPERTY, args.unset)
    if args.set_external_id is not None:
        return ListAction(ActionKind.SET_EXTERNAL_ID, args.set_external_id.strip())
    if args.set_columns:
        return ListAction(ActionKind.SET_COLUMNS)
    if args.erase:
        return ListAction(ActionKind.ERASE)
    return None


def cmd_apply_list(args: argparse.Namespace) -> int:
    """Read the list (a refused file ends here, before the cache is opened), match it, print
    the report, ask, apply as one batch; --keep keeps who it named as list:NAME."""
    from desktop_app.lists.actions import apply_action, keep_list
    from desktop_app.lists.job import ListJob, action_name, pick_column, report_lines
    from desktop_app.lists.reading import ListReadError, read_list_file

    from desktop_app.cache.writes.saved_lists import check_list_name

    try:
        action = _list_action(args)
        if args.keep is not None:
            check_list_name(args.keep)  # before anything is written, not after the action
    except ValueError as error:  # a key, value or name the edit layer refuses
        raise CommandError(f"{error} Nothing was changed.", EXIT_USAGE) from None
    try:
        table = read_list_file(args.file)
        guess = pick_column(table, args.column)
    except ListReadError as error:  # its file name may hold any bytes: said, and logged, as text
        raise CommandError(f"{error.headline}: {printable(str(error))}", EXIT_USAGE) from None
    said = "" if args.column else " (guessed; pick another with --column)"
    print(f"{printable(table.source)}: {guess.reason}{said}; read as {guess.kind.words}.")
    job = ListJob(table, guess.column, guess.kind, action)
    session = open_session()
    try:
        cache = session.cache
        try:
            report = job.match(cache)
        except ValueError as error:  # EditRejected: per-row values the list does not have
            raise CommandError(f"{error} Nothing was changed.", EXIT_USAGE) from None
        for line in report_lines(report, table):
            print(printable(line))
        if args.dry_run:
            print("Dry run: nothing was written" + (" and the list was not kept." if args.keep else "."))
            return EXIT_OK
        if action is not None and report.matched:
            count = len(report.matched)
            question = f"{action_name(action)} for {count:,} end user(s)?"
            if not args.yes:
                if not sys.stdin.isatty():
                    raise CommandError(f"{question} Add --yes to apply without a terminal to ask "
                                       "in (or --dry-run). Nothing was changed.", EXIT_USAGE)
                answer = input(f"{question} [y/N] ").strip().casefold()
                if answer not in ("y", "yes"):
                    print("Nothing was changed.")
                    return EXIT_OK
            try:
                apply_action(cache, report)
            except ValueError as error:  # EditRejected: someone changed since the report
                raise CommandError(f"{error} Nothing was changed.", EXIT_USAGE) from None
            print(f"{action_name(action)}: {count:,} end user(s) changed locally as one batch; "
                  f"{cache.pending_count():,} edits wait for the next sync.")
        elif action is not None:
            print("Nobody on the list needs a change; nothing was written.")
        if args.keep is not None:
            try:
                keep_list(cache, report, args.keep, source=table.source, replace=True)
            except ValueError as error:
                raise CommandError(f"--keep: {error}", EXIT_USAGE) from None
            print(f"Kept {len(report.member_ids):,} end users as list:{printable(args.keep.strip())}")
    finally:
        session.close()
    return EXIT_OK


# --- import ----------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    """`import FILE`: the report first; writes only with a choice for new rows and --yes."""
    from desktop_app.lists.importing import NewPeople, apply_import, plan_import, read_upload, report_lines
    from desktop_app.lists.suppression import CacheSuppression

    upload = read_upload(args.file)  # a refused file: exit 2 before the cache is even opened
    session = open_session()
    try:
        choice = NewPeople(args.new_people) if args.new_people else NewPeople.UPDATE_ONLY
        plan = plan_import(session.cache, upload, choice, suppression=CacheSuppression(session.cache))
        for line in report_lines(plan, dry_run=args.dry_run):
            print(printable(line))
        if args.dry_run:
            print("Dry run: nothing was written.")
            return EXIT_OK
        if plan.new and args.new_people is None:
            raise CommandError(f"{len(plan.new):,} row(s) match no end user: choose --create, "
                               "--update-only or --skip-new. Nothing was written.", EXIT_USAGE)
        touched = len(plan.report.matched) + (len(plan.new) if plan.creates else 0)
        if touched > 1 and not args.yes:
            raise CommandError(f"The import changes or creates {touched:,} end users: add --yes. "
                               "Nothing was written.", EXIT_USAGE)
        outcome = apply_import(session.cache, plan)
        print(f"import: {outcome.updated:,} end user(s) updated, {len(outcome.created):,} created "
              f"locally; {session.cache.pending_count():,} edits wait for the next sync.")
    except ValueError as error:  # EditRejected: the edit layer refused a row; nothing written
        raise CommandError(str(error), EXIT_USAGE) from None
    finally:
        session.close()
    return EXIT_OK
