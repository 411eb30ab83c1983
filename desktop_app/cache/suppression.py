"""Erased identifiers as salted hashes: what the suppression list keeps instead of the text.

An erased person's email and external id must not stay on disk, yet an import or a create of
the same address must still be recognised. The cache keeps HMAC-SHA256(salt, kind + ":" +
normalised identifier) and the salt, 32 random bytes made once per cache file and stored in it.

Why a salt in the same file is enough: the hashes are there so that the plain text is not;
checking a candidate email against them is exactly the job they do, so anyone holding the file
can do it too, with or without a secret. The salt makes the file's hashes useless elsewhere
(no precomputed table fits, two caches' hashes of one email differ, so the lists cannot be
joined), and the same file holds the live people's emails in plain text anyway. A key in the
keyring would stop a dictionary attack on a stolen file but would tie the list to one
machine's keyring: a restored or copied cache would forget whom it must not bring back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Iterable

SALT_BYTES = 32
EMAIL = "email"
EXTERNAL_ID = "external_id"


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def normal_email(text: str) -> str:
    """As lists.identifiers compares emails: trimmed, casefolded."""
    return text.strip().casefold()


def normal_external_id(text: str) -> str:
    return text.strip()


def identifier_hash(salt: bytes, kind: str, normalised: str) -> str:
    """The hex HMAC of one normalised identifier of `kind` (email or external_id)."""
    return hmac.digest(salt, f"{kind}:{normalised}".encode(), "sha256").hex()


def among(salt: bytes, kind: str, identifiers: Iterable[str], known: Collection[str],
          normal: Callable[[str], str]) -> set[str]:
    """Those of `identifiers` (as given) whose normalised hash is in `known` (hex), the same
    hashes as `identifier_hash`. The keyed state after the prefix is made once and copied per
    identifier: 100k take about 0.1-0.3 s."""
    if not known:
        return set()
    wanted = {bytes.fromhex(h) for h in known}
    keyed = hmac.new(salt, f"{kind}:".encode(), hashlib.sha256)
    found: set[str] = set()
    for given in identifiers:
        one = keyed.copy()
        one.update(normal(given).encode())
        if one.digest() in wanted:
            found.add(given)
    return found


def email_hash(salt: bytes, email: str) -> str:
    return identifier_hash(salt, EMAIL, normal_email(email))


def external_id_hash(salt: bytes, external_id: str | None) -> str | None:
    value = normal_external_id(external_id or "")
    return identifier_hash(salt, EXTERNAL_ID, value) if value else None


