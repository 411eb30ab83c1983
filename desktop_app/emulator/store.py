"""The emulator's server-side end users: an in-memory SQLite database behind one lock.

`EmulatorStore` is also the way tests (and the admin surface) make server-side changes, as a
colleague in the Wootric dashboard would: every change bumps `updated_at` to the emulator
clock's current second. Loading keeps the timestamps it is given.

A DELETE through the API only marks an end user (`mark_for_purge`); the row stays readable until
its purge time, and every read or write first purges the marked rows whose time has come by the
store's clock (see `erasure.py` for what the service shows meanwhile).
"""

from __future__ import annotations

import functools
import itertools
import marshal
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.clock import Clock, SystemClock
from desktop_app.domain import EndUser, SurveySettings
from desktop_app.emulator.response_store import ResponseStore
from desktop_app.emulator.sample_data import SAMPLE_SETTINGS, SampleRecord
from desktop_app.timestamps import parse_wire_time

_SCHEMA = """
CREATE TABLE end_user (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    external_id TEXT,
    external_created_at INTEGER,
    last_surveyed INTEGER,
    phone_number TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    properties BLOB NOT NULL,  -- marshal: 3x cheaper than JSON for a million-row load
    settings INTEGER NOT NULL DEFAULT 7,  -- packed bits: _EMAIL | _MOBILE | ...
    purge_at INTEGER  -- marked for deletion: purged at this unix second; NULL: live
);
CREATE INDEX end_user_purge_at ON end_user (purge_at) WHERE purge_at IS NOT NULL;
"""
# The rowid rides along in every index, so these also serve `ORDER BY key, id`.
_LIST_INDEXES = {
    name: f"CREATE INDEX IF NOT EXISTS {name} ON end_user ({column})"
    for name, column in (("end_user_updated_at", "updated_at"),
                         ("end_user_created_at", "created_at"),
                         ("end_user_email", "email"))
}
# Lookup-only indexes are built on first use: they would add a second to a million-row start.
_LOOKUP_INDEXES = {
    "external_id": "CREATE INDEX IF NOT EXISTS end_user_external_id ON end_user (external_id)",
    "phone_number": "CREATE INDEX IF NOT EXISTS end_user_phone_number ON end_user (phone_number)"
    " WHERE phone_number IS NOT NULL",
}
_COLUMNS = (
    "id, email, external_id, external_created_at, last_surveyed, phone_number, created_at, "
    "updated_at, properties, settings"
)
_INSERT = f"INSERT OR REPLACE INTO end_user ({_COLUMNS}) VALUES ({', '.join('?' * 10)})"
_SQL_OPERATORS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_SORT_COLUMNS = ("email", "updated_at", "created_at")
_LOAD_CHUNK = 5_000


# The survey settings packed into one integer column (plain ints: IntFlag arithmetic costs
# microseconds per row on a 50-row page).
_EMAIL, _MOBILE, _WEB, _OPTED_OUT = 1, 2, 4, 8
_FORCE_WEB_SET, _FORCE_WEB, _FORCE_MOBILE_SET, _FORCE_MOBILE = 16, 32, 64, 128
_ALL_ON = _EMAIL | _MOBILE | _WEB
_FORCE_BITS = {
    "force_web_survey": (_FORCE_WEB_SET, _FORCE_WEB),
    "force_mobile_survey": (_FORCE_MOBILE_SET, _FORCE_MOBILE),
}
_CHANNEL_BITS = {
    "email_nps": _EMAIL,
    "mobile_nps": _MOBILE,
    "web_nps": _WEB,
    "surveys_disabled_by_end_user": _OPTED_OUT,
}


class DuplicateEmail(ValueError):
    """Another end user of the account already has this email."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One `GET /v1/end_users` page as SQL terms (already validated)."""

    created: tuple[tuple[str, int], ...] = ()
    updated: tuple[tuple[str, int], ...] = ()
    email: str | None = None
    sort_key: str = "email"
    descending: bool = False
    limit: int = 25
    offset: int = 0


def _opt_int(value: Any) -> int | None:  # whatever the JSON held
    if type(value) is int or value is None:  # the fast path of a million-row load
        return value
    if value == "":
        return None
    return parse_wire_time(value)


def _opt_str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _pack_settings(bits: int, changes: Mapping[str, Any]) -> int:
    """Apply setting changes (channel -> bool, force_* -> bool or None) to packed bits."""
    for name, value in changes.items():
        if name in _CHANNEL_BITS:
            if value is not None:
                flag = _CHANNEL_BITS[name]
                bits = bits | flag if value else bits & ~flag
        elif name in _FORCE_BITS:
            is_set, is_true = _FORCE_BITS[name]
            bits &= ~(is_set | is_true)
            if value is not None:
                bits |= is_set | (is_true if value else 0)
        else:
            raise TypeError(f"no survey setting {name!r}")
    return int(bits)


def _seed_settings(seed: Mapping[str, Any]) -> int:
    settings = seed.get("settings")
    if settings:
        return _pack_settings(_ALL_ON, settings)
    # the seed's own flag means an admin switched every channel off
    return 0 if seed.get("surveys_disabled") else _ALL_ON


def _row_from_seed(seed: Mapping[str, Any], now: int, *, keep_updated_at: bool) -> tuple[Any, ...]:
    email = seed.get("email")
    if not isinstance(email, str) or not email:
        raise ValueError("an end user needs an email")
    created_at = _opt_int(seed.get("created_at"))
    if created_at is None:
        created_at = now
    updated_at = _opt_int(seed.get("updated_at")) if keep_updated_at else now
    properties = seed.get("properties") or {}
    if type(properties) is not dict:  # the common case without an ABC check
        if not isinstance(properties, Mapping):
            raise ValueError("properties must be an object")
        properties = dict(properties)
    raw_id = seed.get("id")
    return (
        None if raw_id is None else int(raw_id),
        email,
        _opt_str(seed.get("external_id")),
        _opt_int(seed.get("external_created_at")),
        _opt_int(seed.get("last_surveyed")),
        _opt_str(seed.get("phone_number")),
        created_at,
        created_at if updated_at is None else updated_at,
        marshal.dumps(properties),
        _seed_settings(seed),
    )


@functools.cache
def _settings_of(bits: int) -> SurveySettings:
    """Settings from packed bits; frozen, so the 81 possible values are shared."""
    return SurveySettings(
        email_nps=bool(bits & _EMAIL),
        mobile_nps=bool(bits & _MOBILE),
        web_nps=bool(bits & _WEB),
        surveys_disabled_by_end_user=bool(bits & _OPTED_OUT),
        force_web_survey=bool(bits & _FORCE_WEB) if bits & _FORCE_WEB_SET else None,
        force_mobile_survey=bool(bits & _FORCE_MOBILE) if bits & _FORCE_MOBILE_SET else None,
    )


def _end_user(row: tuple[Any, ...]) -> EndUser:
    bits = row[9]
    return EndUser(
        id=row[0],
        email=row[1],
        external_id=row[2],
        external_created_at=row[3],
        last_surveyed=row[4],
        phone_number=row[5],
        created_at=row[6],
        updated_at=row[7],
        properties=marshal.loads(row[8]),
        settings=_settings_of(bits),
    )


def settings_dict(settings: SurveySettings) -> dict[str, object]:
    """The settings channels as a plain dict (the keys of the wire's `settings` object)."""
    return {
        "email_nps": settings.email_nps,
        "mobile_nps": settings.mobile_nps,
        "web_nps": settings.web_nps,
        "force_web_survey": settings.force_web_survey,
        "force_mobile_survey": settings.force_mobile_survey,
        "surveys_disabled_by_end_user": settings.surveys_disabled_by_end_user,
    }


def seed_dict(user: EndUser) -> dict[str, object]:
    """An end user in the seed's schema plus its `settings` (and `phone_number` when set)."""
    out = user.to_seed_dict()
    if user.phone_number is not None:
        out["phone_number"] = user.phone_number
    out["settings"] = settings_dict(user.settings)
    return out


class EmulatorStore:
    """The emulator's end users; thread-safe; changes bump `updated_at` (emulator clock)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        for statement in _LIST_INDEXES.values():
            self._db.execute(statement)
        self._lock = threading.RLock()
        self._lookup_indexed: set[str] = set()
        self._next_purge: int | None = None  # the earliest purge_at of a marked row, if any
        # the end users' responses and declines, in this database (they join and cascade)
        self.responses = ResponseStore(self._db, self._lock, self.clock, self._purge_due)

    def _now(self) -> int:
        return int(self.clock.now())

    def _purge_due(self) -> None:
        """Purge the marked rows whose time has come; called under the lock by every read and
        write, so a moved clock shows at once (one comparison when nothing is due)."""
        if self._next_purge is None or self._now() < self._next_purge:
            return
        self._db.execute("DELETE FROM end_user WHERE purge_at <= ?", (self._now(),))
        self._next_purge = self._earliest_purge()

    def _earliest_purge(self) -> int | None:
        row = self._db.execute(
            "SELECT purge_at FROM end_user WHERE purge_at IS NOT NULL ORDER BY purge_at LIMIT 1"
        ).fetchone()
        return None if row is None else int(row[0])

    # -- reading -------------------------------------------------------------------------

    def fetch(self, end_user_id: int) -> EndUser | None:
        """The end user with this id, or None (also for deleted ones)."""
        with self._lock:
            self._purge_due()
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM end_user WHERE id = ?", (end_user_id,)
            ).fetchone()
        return None if row is None else _end_user(row)

    def find(self, field: str, value: str) -> EndUser | None:
        """The first end user (lowest id) whose email, external_id or phone_number matches."""
        if field not in ("email", "external_id", "phone_number"):
            raise ValueError(f"cannot look end users up by {field}")
        with self._lock:
            self._purge_due()
            if field in _LOOKUP_INDEXES and field not in self._lookup_indexed:
                self._db.execute(_LOOKUP_INDEXES[field])
                self._lookup_indexed.add(field)
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM end_user WHERE {field} = ? ORDER BY id LIMIT 1", (value,)
            ).fetchone()
        return None if row is None else _end_user(row)

    def page(self, query: ListQuery) -> list[EndUser]:
        """One page of the list endpoint, sorted by the key and then by id."""
        if query.sort_key not in _SORT_COLUMNS:
            raise ValueError(f"cannot sort by {query.sort_key}")
        terms: list[str] = []
        args: list[object] = []
        for column, filters in (("created_at", query.created), ("updated_at", query.updated)):
            for op, value in filters:
                terms.append(f"{column} {_SQL_OPERATORS[op]} ?")
                args.append(value)
        if query.email is not None:
            terms.append("email = ?")
            args.append(query.email)
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        direction = "DESC" if query.descending else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM end_user {where} "
            f"ORDER BY {query.sort_key} {direction}, id {direction} LIMIT ? OFFSET ?"
        )
        with self._lock:
            self._purge_due()
            rows = self._db.execute(sql, (*args, query.limit, query.offset)).fetchall()
        return [_end_user(row) for row in rows]

    def get(self, end_user_id: int) -> dict[str, object] | None:
        """The end user as a seed dict plus `settings`, or None."""
        user = self.fetch(end_user_id)
        return None if user is None else seed_dict(user)

    def all_ids(self) -> set[int]:
        with self._lock:
            self._purge_due()
            return {row[0] for row in self._db.execute("SELECT id FROM end_user")}

    def count(self) -> int:
        with self._lock:
            self._purge_due()
            return int(self._db.execute("SELECT count(*) FROM end_user").fetchone()[0])

    def seed_dicts(self) -> list[dict[str, object]]:
        """Every end user as a seed dict plus `settings`, by id."""
        with self._lock:
            self._purge_due()
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM end_user ORDER BY id").fetchall()
        return [seed_dict(_end_user(row)) for row in rows]

    def max_id(self) -> int:
        with self._lock:
            self._purge_due()
            return int(self._db.execute("SELECT coalesce(max(id), 0) FROM end_user").fetchone()[0])

    # -- bulk loading --------------------------------------------------------------------

    def load(self, end_users: Iterable[Mapping[str, Any]]) -> int:
        """Insert seed dicts as they are (timestamps kept; a row with a known id replaces it).

        `surveys_disabled: true` without a `settings` object means an admin switched every
        channel off. Returns how many rows were loaded.
        """
        now = self._now()
        return self._load_rows(
            _row_from_seed(seed, now, keep_updated_at=True) for seed in end_users
        )

    def load_samples(self, records: Iterable[SampleRecord]) -> int:
        """Insert generated sample records (`sample_data.iter_records`): the fast path that
        skips building a dict per row, so a million end users load in seconds."""
        settings_bits = [
            _ALL_ON if s is None else _pack_settings(_ALL_ON, s) for s in SAMPLE_SETTINGS
        ]
        dumps = marshal.dumps
        rows = (
            (r[0], r[1], r[2], r[3], r[4], None, r[5], r[6], dumps(r[7]), settings_bits[r[8]])
            for r in records
        )
        return self._load_rows(rows)

    def _load_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert rows in batches (each its own transaction, so readers are not locked out long)."""
        rebuild = self.count() == 0  # into an empty table: insert first, index once afterwards
        if rebuild:
            with self._lock:
                for name in _LIST_INDEXES:
                    self._db.execute(f"DROP INDEX {name}")
        loaded = 0
        iterator = iter(rows)
        try:
            while batch := list(itertools.islice(iterator, _LOAD_CHUNK)):
                loaded += self._insert_batch(batch)
        finally:
            if rebuild:
                with self._lock:
                    for statement in _LIST_INDEXES.values():
                        self._db.execute(statement)
        return loaded

    def _insert_batch(self, batch: list[tuple[Any, ...]]) -> int:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, batch)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(batch)

    # -- changes, as a colleague in the dashboard would make them ------------------------

    def add(self, seed: Mapping[str, Any] | None = None, **fields: Any) -> int:
        """Create an end user now (`created_at` may be given); returns its id."""
        merged = {**(seed or {}), **fields}
        return self.create(merged, unique_email=False).id

    def create(self, fields: Mapping[str, Any], *, unique_email: bool) -> EndUser:
        """Insert one end user stamped now; optionally refuse an email already taken."""
        row = _row_from_seed(fields, self._now(), keep_updated_at=False)
        with self._lock:
            self._purge_due()
            if unique_email and self._email_taken(row[1], None):
                raise DuplicateEmail(row[1])
            cursor = self._db.execute(_INSERT, row)
            new_id = cursor.lastrowid if row[0] is None else row[0]
            user = self.fetch(int(new_id))  # type: ignore[arg-type]  # lastrowid is set after an INSERT
        assert user is not None
        return user

    def _email_taken(self, email: str, except_id: int | None) -> bool:
        row = self._db.execute(
            "SELECT id FROM end_user WHERE email = ? AND id IS NOT ? LIMIT 1", (email, except_id)
        ).fetchone()
        return row is not None

    def update(self, end_user_id: int, **fields: Any) -> dict[str, object]:
        """Change fields: email, external_id, external_created_at, last_surveyed, phone_number,
        `properties` (replaces the whole hash), `settings` (a partial dict) or
        `surveys_disabled` (True: every channel off; False: every channel on).

        Raises KeyError for an unknown end user, TypeError for an unknown field.
        """
        changes: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "settings":
                changes.update(value)
            elif name == "surveys_disabled":
                on = not value
                changes.update(email_nps=on, mobile_nps=on, web_nps=on)
            else:
                changes[name] = value
        return seed_dict(self.apply(end_user_id, changes, unique_email=False))

    def apply(self, end_user_id: int, changes: Mapping[str, Any], *, unique_email: bool) -> EndUser:
        """Write changes and bump `updated_at` to now.

        Keys: the plain fields, `properties` (a dict that replaces the hash) and setting names
        (`email_nps`, ..., `force_web_survey`, `surveys_disabled_by_end_user`).
        """
        assignments = ["updated_at = ?"]
        args: list[object] = [self._now()]
        settings: dict[str, Any] = {}
        for column, value in changes.items():
            if column in _CHANNEL_BITS or column in _FORCE_BITS:
                settings[column] = value
                continue
            if column == "properties":
                value = marshal.dumps(dict(value or {}))
            elif column in ("external_created_at", "last_surveyed"):
                value = _opt_int(value)
            elif column in ("external_id", "phone_number"):
                value = _opt_str(value)
            elif column != "email":
                raise TypeError(f"an end user has no field {column!r}")
            assignments.append(f"{column} = ?")
            args.append(value)
        with self._lock:
            self._purge_due()
            current = self._db.execute(
                "SELECT settings FROM end_user WHERE id = ?", (end_user_id,)
            ).fetchone()
            if current is None:
                raise KeyError(end_user_id)
            email = changes.get("email")
            if unique_email and email is not None and self._email_taken(email, end_user_id):
                raise DuplicateEmail(email)
            if settings:
                assignments.append("settings = ?")
                args.append(_pack_settings(current[0], settings))
            self._db.execute(
                f"UPDATE end_user SET {', '.join(assignments)} WHERE id = ?", (*args, end_user_id)
            )
            user = self.fetch(end_user_id)
        assert user is not None
        return user

    def set_property(self, end_user_id: int, key: str, value: Any) -> dict[str, object]:
        """Set one custom property (None removes it)."""
        with self._lock:
            user = self.fetch(end_user_id)
            if user is None:
                raise KeyError(end_user_id)
            properties = dict(user.properties)
            if value is None:
                properties.pop(key, None)
            else:
                properties[key] = value
            changed = self.apply(end_user_id, {"properties": properties}, unique_email=False)
            return seed_dict(changed)

    def set_settings(self, end_user_id: int, **channels: bool | None) -> dict[str, object]:
        """Switch survey channels: `email_nps`, `mobile_nps`, `web_nps` (None: leave alone),
        `force_web_survey`, `force_mobile_survey` (True, False or None)."""
        unknown = set(channels) - {"email_nps", "mobile_nps", "web_nps", *_FORCE_BITS}
        if unknown:
            raise TypeError(f"no survey setting {sorted(unknown)[0]!r}")
        return seed_dict(self.apply(end_user_id, channels, unique_email=False))

    def opt_out(self, end_user_id: int, opted_out: bool = True) -> dict[str, object]:
        """The end user opts out of (or back into) surveys themself."""
        return seed_dict(
            self.apply(end_user_id, {"surveys_disabled_by_end_user": opted_out}, unique_email=False)
        )

    def delete(self, end_user_id: int) -> bool:
        """Remove an end user at once (as the admin surface does); False if there was none."""
        with self._lock:
            self._purge_due()
            cursor = self._db.execute("DELETE FROM end_user WHERE id = ?", (end_user_id,))
        return cursor.rowcount > 0

    # -- deletion through the API: marked now, purged later (erasure.py) -----------------

    def mark_for_purge(self, end_user_id: int, purge_at: int) -> bool:
        """Mark an end user for deletion at `purge_at` (unix seconds); a person already marked
        keeps the first purge time. False if there was none."""
        with self._lock:
            self._purge_due()
            cursor = self._db.execute(
                "UPDATE end_user SET purge_at = coalesce(purge_at, ?) WHERE id = ?",
                (int(purge_at), end_user_id),
            )
            if cursor.rowcount == 0:
                return False
            self._next_purge = self._earliest_purge()
        return True

    def marked(self) -> dict[int, int]:
        """The end users marked for deletion and not purged yet: id -> purge time."""
        with self._lock:
            self._purge_due()
            rows = self._db.execute(
                "SELECT id, purge_at FROM end_user WHERE purge_at IS NOT NULL ORDER BY id"
            ).fetchall()
        return {int(row[0]): int(row[1]) for row in rows}

    def purge_marked(self) -> list[int]:
        """Purge every end user marked for deletion now, whatever its time; returns their ids."""
        with self._lock:
            ids = list(self.marked())
            self._db.execute("DELETE FROM end_user WHERE purge_at IS NOT NULL")
            self._next_purge = None
        return ids

    def close(self) -> None:
        with self._lock:
            self._db.close()
