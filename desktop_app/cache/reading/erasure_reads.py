"""Reads of the erasure records: the suppression list (erased identifiers, salted hashes)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Engine

from desktop_app.cache.suppression import EMAIL, EXTERNAL_ID, among, normal_email, normal_external_id

WOOTRIC_ID = "wootric_id"
_HASH_COLUMN = {EMAIL: "email_hash", EXTERNAL_ID: "external_id_hash"}


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    """A delete the service took or is taking; identifiers only as hashes."""

    end_user_id: int
    state: str  # pending, erased
    requested_at: int
    sent_at: int | None
    accepted_at: int | None
    erased_at: int | None


class ErasureReads:
    """Read methods of Cache over `erasure` and `suppression_salt`."""

    _engine: Engine

    def erasures(self) -> list[ErasureRecord]:
        with self._engine.connect() as connection:
            return [ErasureRecord(*row) for row in connection.exec_driver_sql(
                "SELECT end_user_id, state, requested_at, sent_at, accepted_at, erased_at"
                " FROM erasure ORDER BY end_user_id")]

    def suppressed(self, kind: str, identifiers: Collection[str]) -> set[str]:
        """Those of `identifiers` (of `kind`: email, external_id or wootric_id) that name a
        person erased, or being erased, here: they must not be imported or created again.
        Emails compare casefolded and trimmed; the answer is the identifiers as given.
        One read of the (small) list, then one keyed hash per identifier: 100k in 0.1-0.3 s."""
        if not identifiers:
            return set()
        with self._engine.connect() as connection:
            if kind == WOOTRIC_ID:
                ids = {str(row[0]) for row in connection.exec_driver_sql("SELECT end_user_id FROM erasure")}
                return {i for i in identifiers if i.strip().lstrip("0") in ids}
            column = _HASH_COLUMN.get(kind)
            if column is None:
                raise ValueError(f"no suppression by {kind!r}")
            salt_row = connection.exec_driver_sql("SELECT salt FROM suppression_salt WHERE id = 1").first()
            if salt_row is None:
                return set()  # nobody was ever erased here
            known = {row[0] for row in connection.exec_driver_sql(
                f"SELECT {column} FROM erasure WHERE {column} IS NOT NULL")}
        return among(bytes(salt_row[0]), kind, identifiers, known,
                     normal_email if kind == EMAIL else normal_external_id)
