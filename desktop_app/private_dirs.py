"""User-only folders (0700): the data directory and what the app makes in it, tightened if loose."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and missing parents user-only (0700), as the XDG base-directory
    spec asks; existing ones are left alone (see `tighten_private_dir`)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        if os.name == "posix":
            os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered by the umask; be exact


def tighten_private_dir(directory: Path) -> bool:
    """Make an existing folder of ours user-only when group or others may enter it; True if
    it was changed. A folder another user owns is left as it is (and said in the log): it is
    not ours to change, and chmod would fail anyway."""
    if os.name != "posix":
        return False  # Windows: the per-user profile's ACLs already keep others out
    try:
        info = os.stat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or not info.st_mode & 0o077:
        return False
    if info.st_uid != os.getuid():
        log.warning("%s is open to other users (%o) and belongs to another user: left as it is",
                    directory, stat.S_IMODE(info.st_mode))
        return False
    try:
        os.chmod(directory, PRIVATE_DIR)
    except OSError as exc:  # a read-only file system: the app still runs
        log.warning("could not make %s user-only: %s", directory, exc)
        return False
    log.info("made %s user-only (it was %o)", directory, stat.S_IMODE(info.st_mode))
    return True


def secure_data_dir(root: Path) -> Path:
    """The data directory, created user-only, or tightened when an older version (or a
    person) left it open to others: its root, and the app's own folders in it."""
    make_private_dirs(root)
    tighten_private_dir(root)
    for child in ("cache", "logs"):
        tighten_private_dir(root / child)
    return root
