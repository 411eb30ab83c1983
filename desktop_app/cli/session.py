"""What every command-line verb needs: the account, its cache, and an API client factory."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app import accounts
from desktop_app.credentials import open_credential_store

if TYPE_CHECKING:  # imported where used: `wootric-desk` with no verb starts the GUI without them
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache


class CommandError(Exception):
    """A failure with a message for the person and an exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # bad arguments, a filter that does not parse, an edit the app refuses
EXIT_SIGN_IN = 3  # not signed in, or the service refused the credentials
EXIT_OFFLINE = 4  # the service could not be reached
EXIT_ATTENTION = 5  # sync finished, but conflicts or rejected edits need a person


@dataclass
class Session:
    account: accounts.SignedInAccount | None
    profile: accounts.AccountProfile
    cache: Cache

    def client_factory(self) -> Callable[[], WootricClient]:
        account = self.account
        if account is None:
            raise CommandError(
                "Not signed in: run `wootric-desk login`, or set WOOTRIC_CLIENT_ID and "
                "WOOTRIC_CLIENT_SECRET.", EXIT_SIGN_IN)
        from desktop_app.api.client import WootricClient

        return lambda: WootricClient(account.credentials())

    def close(self) -> None:
        self.cache.close()


def apply_data_dir(data_dir: str | None) -> None:
    """`--data-dir` wins over WOOTRIC_DESK_HOME; everything below reads the variable."""
    if data_dir:
        os.environ[accounts.ENV_HOME] = str(Path(data_dir).expanduser().resolve())


def open_session(*, need_account: bool = False) -> Session:
    """The signed-in account (environment first, then the stored profile) and its cache.

    Offline verbs work from the stored profile alone, without the secret.
    """
    store = open_credential_store()
    account = accounts.resolve_account(store)
    profile = account.profile if account else accounts.load_profile()
    if profile is None:
        raise CommandError(
            "No account yet: run `wootric-desk login` (or set WOOTRIC_CLIENT_ID and "
            "WOOTRIC_CLIENT_SECRET), or try the app with `wootric-desk --demo`.", EXIT_SIGN_IN)
    if need_account and account is None:
        raise CommandError(
            f"The secret for {profile.display_name} is not available "
            f"({store.status().reason or 'not in the keyring'}): run `wootric-desk login` again.",
            EXIT_SIGN_IN)
    from desktop_app.cache.store import Cache

    return Session(account, profile, Cache.open(profile.cache_path()))
