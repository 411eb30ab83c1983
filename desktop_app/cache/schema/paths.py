"""Where cache databases live: the app's data directory and one database file per account."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from desktop_app import APP_ID, APP_NAME

ENV_HOME = "WOOTRIC_DESK_HOME"

# Keys that are already a safe, non-secret file stem (e.g. accounts.account_key's "acct-<hex>").
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """WOOTRIC_DESK_HOME, else the platform's per-user data directory (no Qt needed).

    Linux: $XDG_DATA_HOME/wootric-desk (~/.local/share/wootric-desk); macOS:
    ~/Library/Application Support/Wootric Desk; Windows: %LOCALAPPDATA%\\Wootric Desk.
    """
    env = os.environ if env is None else env
    home = env.get(ENV_HOME)
    if home:
        return Path(home).expanduser()
    if sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    xdg = env.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / APP_ID


def account_db_path(data_dir: Path | str, account_key: str) -> Path:
    """The cache database of one account: `<data_dir>/cache/<key>.sqlite3`.

    A key that is not already a short safe token is hashed, so no URL or client id ever shows
    in a file name. Never pass a secret: the key only names a file.
    """
    if not account_key:
        raise ValueError("an account key is needed to name the cache file")
    stem = account_key if _SAFE_KEY.match(account_key) else (
        "acct-" + hashlib.sha256(account_key.encode()).hexdigest()[:24]
    )
    return Path(data_dir) / "cache" / f"{stem}.sqlite3"
