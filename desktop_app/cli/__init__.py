"""`wootric-desk`: the app (no verb), or a command-line verb over the same Qt-free core."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app.arguments import ArgumentParser, whole_number
from desktop_app.cache.records import ConflictChoice
from desktop_app.cli.session import apply_data_dir
from desktop_app.fields import FIELDS, sort_names

EDIT_VERBS = {
    "set-property": "set a property on end users (KEY VALUE)",
    "unset-property": "remove a property from end users (KEY)",
    "disable-surveys": "turn surveys off (an admin's switch)",
    "enable-surveys": "turn surveys back on (not for end users who opted out themselves)",
    "set-email": "fix an end user's email (--id N EMAIL)",
    "set-external-id": "set an end user's external id (--id N VALUE)",
    "delete": "delete end users (pending until the service confirms)",
}


MAX_SQL_INTEGER = 2**63 - 1  # SQLite's integers: a larger one is an OverflowError, not "no match"
_end_user_id = whole_number(1, MAX_SQL_INTEGER)
# An edit's --id may also be a local one: negative, a person created here and not yet pushed.
_edit_target_id = whole_number(-MAX_SQL_INTEGER, MAX_SQL_INTEGER)
_row_limit = whole_number(0, MAX_SQL_INTEGER)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="wootric-desk",
        description="Manage Wootric end users offline. With no verb, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", help="where accounts and caches live (or WOOTRIC_DESK_HOME)")
    parser.add_argument("--demo", action="store_true",
                        help="open the app on the embedded emulator with sample end users")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation end to end against the embedded emulator "
                             "(headless; touches no keyring or data) and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    login = verbs.add_parser("login", help="sign in; the secret goes to the OS keyring")
    login.add_argument("--region", choices=["US", "EU", "AU"], default="US")
    login.add_argument("--base-url", help="API base URL (overrides --region)")
    login.add_argument("--client-id")
    login.add_argument("--username", help="account email, for the password grant")
    login.add_argument("--account-token", help="NPS-… token, to pick one of several accounts")
    verbs.add_parser("logout", help="forget the account and remove its secret from the keyring")
    verbs.add_parser("status", help="account, cache, pending edits, conflicts, recent syncs")

    sync = verbs.add_parser("sync", help="push local edits and pull changes now")
    sync.add_argument("--reconcile", action="store_true",
                      help="also look for end users deleted on the service")
    sync.add_argument("--quiet", action="store_true", help="no progress lines (a rate-limit wait is still said)")

    listing = verbs.add_parser("list", help="list cached end users matching a filter")
    _filter_args(listing)
    listing.add_argument("--limit", type=_row_limit, default=50)
    listing.add_argument("--format", choices=["table", "json", "ids"], default="table")
    listing.add_argument("--columns", help="extra columns, comma-separated: property keys, prop:KEY,"
                         " or latest_score, latest_comment, response_count")
    listing.add_argument("--count", action="store_true", help="print only the number of matches")

    for verb, help_text in EDIT_VERBS.items():
        edit = verbs.add_parser(verb, help=help_text)
        edit.add_argument("--id", type=_edit_target_id, action="append",
                          help="an end user id (repeatable; negative: created here, not yet synced)")
        edit.add_argument("--filter", help="every end user the filter matches")
        edit.add_argument("--yes", action="store_true", help="confirm an edit of many end users")
        if verb == "set-property":
            edit.add_argument("key")
            edit.add_argument("value")
        elif verb == "unset-property":
            edit.add_argument("key")
        elif verb == "set-email":
            edit.add_argument("email")
        elif verb == "set-external-id":
            edit.add_argument("external_id")

    conflicts = verbs.add_parser("conflicts", help="list conflicts and rejected edits, or resolve one")
    conflicts.add_argument("--resolve", type=_end_user_id, metavar="ID")
    conflicts.add_argument("--choice", choices=[choice.value for choice in ConflictChoice])
    conflicts.add_argument("--value")

    rejected = verbs.add_parser("rejected", help="list the edits the service refused, or dismiss them")
    rejected.add_argument("--dismiss", type=_end_user_id, action="append", metavar="ID",
                          help="drop this rejected edit (repeatable); the audit keeps its message")
    rejected.add_argument("--all", action="store_true", help="drop every rejected edit")

    export = verbs.add_parser("export", help="export the filtered list to CSV (- for stdout)")
    _filter_args(export)
    export.add_argument("--columns", help="comma-separated columns: "
                        + ", ".join(f.key for f in FIELDS if f.exports)
                        + ", prop:KEY for a property, prop:* for every property")
    export.add_argument("--unix-timestamps", action="store_true", help="unix seconds, not ISO 8601")
    export.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM (for Excel)")
    export.add_argument("--keep-formulas", action="store_true",
                        help="do not neutralize cells a spreadsheet would run as formulas")
    export.add_argument("output")

    apply_list = verbs.add_parser(
        "apply-list", help="match a list of people (CSV/TSV) against the cache and apply one action")
    apply_list.add_argument("file", help="the list: CSV or TSV, any delimiter, UTF-8 or UTF-16")
    apply_list.add_argument("--column", help="the column that identifies people: a header name, a "
                            "number from 1, or email / external_id / wootric_id (default: guessed)")
    action = apply_list.add_mutually_exclusive_group()
    action.add_argument("--disable-surveys", action="store_true", help="turn surveys off (an admin's switch)")
    action.add_argument("--enable-surveys", action="store_true",
                        help="turn surveys on (not for people who opted out themselves)")
    action.add_argument("--set", nargs=2, metavar=("KEY", "VALUE"), help="set one property for everyone")
    action.add_argument("--unset", metavar="KEY", help="remove a property")
    action.add_argument("--set-external-id", metavar="COLUMN",
                        help="each person's external id from this column of the list")
    action.add_argument("--set-columns", action="store_true",
                        help="each person's own property values from the list's other columns")
    action.add_argument("--erase", action="store_true", help="delete the end users (pending until sent)")
    apply_list.add_argument("--dry-run", action="store_true", help="print the match report; write nothing")
    apply_list.add_argument("--yes", action="store_true", help="apply without asking")
    apply_list.add_argument("--keep", metavar="NAME",
                            help="keep the people the list named as list:NAME for the filter")
    importing = verbs.add_parser(
        "import", help="import a file in Wootric's upload convention (email, then property columns)")
    new_people = importing.add_mutually_exclusive_group()
    new_people.add_argument("--create", dest="new_people", action="store_const", const="create",
                            help="create the end users no row matches (and update the others)")
    new_people.add_argument("--update-only", dest="new_people", action="store_const",
                            const="update-only", help="update the end users who match; create nobody")
    new_people.add_argument("--skip-new", dest="new_people", action="store_const", const="skip-new",
                            help="the same as --update-only: rows that match nobody are skipped")
    importing.add_argument("--dry-run", action="store_true", help="print the report; write nothing")
    importing.add_argument("--yes", action="store_true", help="confirm an import of many end users")
    importing.add_argument("file")

    verbs.add_parser("emulator", help="run the Wootric API emulator (see --help after it)",
                     add_help=False)
    return parser


def _filter_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--filter", default="", help="the filter language (see README)")
    parser.add_argument("--sort", default="email",
                        help="one of " + ", ".join(sort_names()) + ", or prop:KEY for a property")
    parser.add_argument("--desc", action="store_true", help="sort descending")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every error ends as one line on stderr and an exit code the README lists."""
    from desktop_app.cli.errors import run_guarded

    return run_guarded(lambda: _run(list(sys.argv[1:] if argv is None else argv)))


def _run(argv: list[str]) -> int:
    if argv[:1] == ["emulator"]:
        from desktop_app.emulator.__main__ import main as emulator_main

        return emulator_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    from desktop_app.cli.errors import check_text_arguments, check_text_environment

    check_text_arguments(parser, args)
    apply_data_dir(args.data_dir)
    from desktop_app.logs import setup_logging

    if args.self_test:
        from desktop_app.self_test import run_self_test

        return run_self_test()
    if args.verb is None:
        from desktop_app.ui.app import run_gui

        return run_gui(argv, demo=args.demo, data_dir=None)
    setup_logging()
    check_text_environment()
    from desktop_app.accounts import data_dir
    from desktop_app.private_dirs import secure_data_dir

    secure_data_dir(data_dir())  # user-only, also when an older version made it 0755
    from desktop_app.cli import verbs

    handlers = {
        "login": verbs.cmd_login, "logout": verbs.cmd_logout, "status": verbs.cmd_status,
        "sync": verbs.cmd_sync, "list": verbs.cmd_list, "conflicts": verbs.cmd_conflicts,
        "rejected": verbs.cmd_rejected,
        "export": verbs.cmd_export, "apply-list": verbs.cmd_apply_list, "import": verbs.cmd_import,
        **{verb: verbs.cmd_edit(verb) for verb in EDIT_VERBS},
    }
    return handlers[args.verb](args)
