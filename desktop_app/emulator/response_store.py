"""The emulator's stored survey responses and declines, beside its end users in one SQLite database.

`ResponseStore` shares `EmulatorStore`'s in-memory connection and lock, so the two tables are
read together (a response's `end_user.email` is the end user's current one) and two triggers keep
them consistent whatever path changes an end user:

- an end user's row deleted (the purge of someone an API DELETE marked, or the admin's DELETE)
  takes its responses and declines with it: they are gone from every route at once (reads here
  run the store's due purge first, as its own reads do);
- an end user's `properties` changed freezes the old hash into each of that person's responses and
  declines that still had none of their own: `properties` NULL means "unchanged since the survey,
  the end user's current ones", so a million sample rows cost no copy of anything until a change.

Loading over a known end-user id (`INSERT OR REPLACE`) fires neither trigger (SQLite runs delete
triggers for REPLACE only with recursive triggers on): the person keeps its history.

Columns kept small for a 3,000,000-row benchmark: `ip_address` and `origin_url` hold either an
integer (an IPv4 address; an index into `SAMPLE_ORIGINS`) or the text a client sent; the channel
is an index into `CHANNELS`; `completed` and `excluded_from_calculations` share one flags column.
Every change through `edit` bumps `updated_at` to the emulator clock's current second; loading
keeps the timestamps it is given.
"""

from __future__ import annotations

import itertools
import marshal
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, NamedTuple

from desktop_app.clock import Clock
from desktop_app.timestamps import parse_wire_time

CHANNELS = ("web", "email", "mobile:ios", "mobile:android")
# the account's surveys: one per channel (the service knows surveys only by id, §4)
SURVEY_IDS = (1001, 1002, 1003, 1004)
SAMPLE_ORIGINS = (
    "https://app.example.com/dashboard", "https://app.example.com/reports",
    "https://app.example.com/settings/billing", "https://www.example.com/pricing",
    "https://mail.example.com/survey", "app://example.ios/home", "app://example.android/home",
)
COMPLETED, EXCLUDED = 1, 2  # bits of the flags column
TAG_SEPARATOR = "\x1f"
BUCKET_SCORES = {"promoters": (9, 10), "passives": (7, 8), "detractors": (0, 6)}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY,
    end_user_id INTEGER NOT NULL,
    survey_id INTEGER NOT NULL,
    score INTEGER NOT NULL,
    text TEXT,
    flags INTEGER NOT NULL,
    ip_address,                 -- no affinity: an int (IPv4) or text, kept as given
    origin_url,                 -- an int (SAMPLE_ORIGINS) or text
    channel INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    tags TEXT,                  -- joined by TAG_SEPARATOR; NULL: none
    notes BLOB,                 -- marshal of a list; NULL: none
    properties BLOB             -- marshal; NULL: the end user's current ones
);
CREATE TABLE IF NOT EXISTS decline (
    id INTEGER PRIMARY KEY,
    end_user_id INTEGER NOT NULL,
    survey_id INTEGER NOT NULL,
    ip_address,
    origin_url,
    channel INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    properties BLOB
);
CREATE TRIGGER IF NOT EXISTS end_user_history_gone AFTER DELETE ON end_user BEGIN
    DELETE FROM response WHERE end_user_id = old.id;
    DELETE FROM decline WHERE end_user_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS end_user_properties_frozen BEFORE UPDATE OF properties ON end_user
WHEN old.properties IS NOT new.properties BEGIN
    UPDATE response SET properties = old.properties
        WHERE end_user_id = old.id AND properties IS NULL;
    UPDATE decline SET properties = old.properties
        WHERE end_user_id = old.id AND properties IS NULL;
END;
"""
# The rowid rides along in every index: these also serve `ORDER BY created_at, id`.
_INDEXES = {
    "response_created_at": "CREATE INDEX IF NOT EXISTS response_created_at ON response (created_at)",
    "response_end_user": "CREATE INDEX IF NOT EXISTS response_end_user"
                         " ON response (end_user_id, created_at)",
    "decline_created_at": "CREATE INDEX IF NOT EXISTS decline_created_at ON decline (created_at)",
    "decline_end_user": "CREATE INDEX IF NOT EXISTS decline_end_user"
                        " ON decline (end_user_id, created_at)",
}
RESPONSE_COLUMNS = (
    "id", "end_user_id", "survey_id", "score", "text", "flags", "ip_address", "origin_url",
    "channel", "created_at", "updated_at", "tags", "notes", "properties",
)
DECLINE_COLUMNS = (
    "id", "end_user_id", "survey_id", "ip_address", "origin_url", "channel", "created_at",
    "updated_at", "properties",
)
_COLUMNS = {"response": RESPONSE_COLUMNS, "decline": DECLINE_COLUMNS}
# generated samples never carry notes or their own properties: a quarter less to insert
SAMPLE_COLUMNS = {"response": RESPONSE_COLUMNS[:12], "decline": DECLINE_COLUMNS[:8]}
_SQL_OPERATORS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_LOAD_CHUNK = 10_000


class LastResponse(NamedTuple):
    """What an end-user document says of its newest response (`last_response`)."""

    id: int
    score: int
    text: str | None
    channel: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response, with its end user's email and the properties as of survey time."""

    id: int
    end_user_id: int
    survey_id: int
    score: int
    text: str | None
    completed: bool
    excluded_from_calculations: bool
    ip_address: str | None
    origin_url: str | None
    channel: str
    created_at: int
    updated_at: int
    tags: tuple[str, ...]
    notes: list[Any]
    email: str
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredDecline:
    """One stored decline (the end user dismissed a survey)."""

    id: int
    end_user_id: int
    survey_id: int
    ip_address: str | None
    origin_url: str | None
    channel: str
    created_at: int
    updated_at: int
    email: str
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One list page (already validated): `kind` is "response" or "decline"."""

    kind: str
    created: tuple[tuple[str, int], ...] = ()
    end_user_id: int | None = None
    scores: tuple[int, int] | None = None  # inclusive range (the NPS buckets)
    descending: bool = True
    limit: int = 25
    offset: int = 0


@dataclass(frozen=True, slots=True)
class NpsCounts:
    """Counts behind `GET /v1/nps_summary` over a created_at range."""

    promoters: int
    passives: int
    detractors: int
    declines: int
    email_responses: int
    email_declines: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors


def render_address(value: object) -> str | None:
    """An ip_address column: an int is an IPv4 address, text is what a client sent."""
    if value is None or isinstance(value, str):
        return value
    return str(IPv4Address(int(value)))  # type: ignore[call-overload]  # an int here


def render_origin(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return SAMPLE_ORIGINS[int(value)]  # type: ignore[call-overload]  # an int here


def _properties(own: bytes | None, current: bytes) -> dict[str, Any]:
    return dict(marshal.loads(own if own is not None else current))


def _response(row: Sequence[Any]) -> StoredResponse:
    flags = row[5]
    return StoredResponse(
        id=row[0], end_user_id=row[1], survey_id=row[2], score=row[3], text=row[4],
        completed=bool(flags & COMPLETED), excluded_from_calculations=bool(flags & EXCLUDED),
        ip_address=render_address(row[6]), origin_url=render_origin(row[7]),
        channel=CHANNELS[row[8]], created_at=row[9], updated_at=row[10],
        tags=tuple(row[11].split(TAG_SEPARATOR)) if row[11] else (),
        notes=list(marshal.loads(row[12])) if row[12] is not None else [],
        email=row[14], properties=_properties(row[13], row[15]),
    )


def _decline(row: Sequence[Any]) -> StoredDecline:
    return StoredDecline(
        id=row[0], end_user_id=row[1], survey_id=row[2], ip_address=render_address(row[3]),
        origin_url=render_origin(row[4]), channel=CHANNELS[row[5]], created_at=row[6],
        updated_at=row[7], email=row[9], properties=_properties(row[8], row[10]),
    )


def _time(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"{name} must be unix seconds or a wire timestamp")
    try:
        parsed = parse_wire_time(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be unix seconds or a wire timestamp") from None
    return default if parsed is None else int(parsed)


def _channel(value: Any) -> int:
    if value is None:
        return 0
    if value not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    return CHANNELS.index(value)


def _text_or_none(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value


def tags_column(tags: Any) -> str | None:
    """Tags as stored: a list of non-empty names without the separator, or None for none."""
    if tags is None:
        return None
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) and t for t in tags):
        raise ValueError("tags must be a list of names")
    if any(TAG_SEPARATOR in t for t in tags):
        raise ValueError("a tag cannot hold a control character")
    return TAG_SEPARATOR.join(dict.fromkeys(tags)) or None


class ResponseStore:
    """Responses and declines of the emulator's end users (thread-safe through the shared lock)."""

    def __init__(
        self, db: sqlite3.Connection, lock: threading.RLock, clock: Clock,
        purge_due: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._lock = lock
        self.clock = clock
        # the end users' purge of marked rows whose time has come (erasure.py), run under the
        # lock before every read and write here too: a due purge takes its history at once
        self._purge_due = purge_due
        with self._lock:
            self._db.executescript(_SCHEMA)
            for statement in _INDEXES.values():
                self._db.execute(statement)

    def _now(self) -> int:
        return int(self.clock.now())

    # -- reading -------------------------------------------------------------------------

    def page(self, query: HistoryQuery) -> list[StoredResponse] | list[StoredDecline]:  # by kind
        """One list page, by created_at and then id, both in the query's direction."""
        columns = _COLUMNS[query.kind]
        terms: list[str] = []
        args: list[object] = []
        for op, value in query.created:
            terms.append(f"h.created_at {_SQL_OPERATORS[op]} ?")
            args.append(value)
        if query.end_user_id is not None:
            terms.append("h.end_user_id = ?")
            args.append(query.end_user_id)
        if query.scores is not None:
            terms.append("h.score BETWEEN ? AND ?")
            args.extend(query.scores)
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        direction = "DESC" if query.descending else "ASC"
        selected = ", ".join(f"h.{c}" for c in columns)
        sql = (
            f"SELECT {selected}, u.email, u.properties FROM {query.kind} h "
            f"JOIN end_user u ON u.id = h.end_user_id {where} "
            f"ORDER BY h.created_at {direction}, h.id {direction} LIMIT ? OFFSET ?"
        )
        with self._lock:
            self._purge_due()
            rows = self._db.execute(sql, (*args, query.limit, query.offset)).fetchall()
        if query.kind == "response":
            return [_response(row) for row in rows]
        return [_decline(row) for row in rows]

    def response(self, response_id: int) -> StoredResponse | None:
        row = self._one("response", response_id)
        return None if row is None else _response(row)

    def decline(self, decline_id: int) -> StoredDecline | None:
        row = self._one("decline", decline_id)
        return None if row is None else _decline(row)

    def _one(self, kind: str, item_id: int) -> tuple[Any, ...] | None:
        selected = ", ".join(f"h.{c}" for c in _COLUMNS[kind])
        with self._lock:
            self._purge_due()
            row: tuple[Any, ...] | None = self._db.execute(
                f"SELECT {selected}, u.email, u.properties FROM {kind} h "
                "JOIN end_user u ON u.id = h.end_user_id WHERE h.id = ?", (item_id,)
            ).fetchone()
        return row

    def last_response(self, end_user_id: int) -> LastResponse | None:
        """The end user's newest response (by created_at, then id), or None."""
        with self._lock:
            self._purge_due()
            row = self._db.execute(
                "SELECT id, score, text, channel FROM response WHERE end_user_id = ? "
                "ORDER BY created_at DESC, id DESC LIMIT 1", (end_user_id,)
            ).fetchone()
        return None if row is None else LastResponse(row[0], row[1], row[2], CHANNELS[row[3]])

    def count(self, kind: str = "response") -> int:
        if kind not in _COLUMNS:
            raise ValueError(f"no stored {kind}s")
        with self._lock:
            self._purge_due()
            return int(self._db.execute(f"SELECT count(*) FROM {kind}").fetchone()[0])

    def nps_counts(self, start: int, end: int) -> NpsCounts:
        """Buckets of the responses created in [start, end) that count (not excluded), and the
        declines of the same span; the email channel's share of each."""
        email = CHANNELS.index("email")
        with self._lock:
            self._purge_due()
            row = self._db.execute(
                "SELECT coalesce(sum(score >= 9), 0), coalesce(sum(score BETWEEN 7 AND 8), 0), "
                "coalesce(sum(score <= 6), 0), coalesce(sum(channel = ?), 0) FROM response "
                "WHERE created_at >= ? AND created_at < ? AND flags & ? = 0",
                (email, start, end, EXCLUDED),
            ).fetchone()
            declined = self._db.execute(
                "SELECT count(*), coalesce(sum(channel = ?), 0) FROM decline "
                "WHERE created_at >= ? AND created_at < ?", (email, start, end),
            ).fetchone()
        return NpsCounts(row[0], row[1], row[2], declined[0], row[3], declined[1])

    def property_keys(self) -> list[tuple[str, int]]:
        """(key, created_at of the first end user who carried it) of every end-user property."""
        first: dict[str, int] = {}
        loads = marshal.loads
        with self._lock:
            self._purge_due()
            rows = self._db.execute("SELECT created_at, properties FROM end_user").fetchall()
        for created_at, blob in rows:
            for key in loads(blob):
                seen = first.get(key)
                if seen is None or created_at < seen:
                    first[key] = created_at
        return sorted(first.items())

    def changes(self) -> int:
        """A number that moves with every row written to the database (end users too)."""
        with self._lock:
            self._purge_due()
            return self._db.total_changes

    def survey_population(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(id, created_at, properties) of every end user, by created_at and then id."""
        with self._lock:
            self._purge_due()
            rows = self._db.execute(
                "SELECT id, created_at, properties FROM end_user ORDER BY created_at, id").fetchall()
        loads = marshal.loads
        return ((end_user_id, created_at, loads(blob)) for end_user_id, created_at, blob in rows)

    # -- loading -------------------------------------------------------------------------

    def load_responses(self, rows: Iterable[Mapping[str, Any]]) -> list[int]:
        """Insert responses given as dicts (all checked before any is written); returns the ids.

        Keys: `end_user_id` and `score` (0-10) required; `id`, `survey_id`, `text`, `completed`
        (default true), `excluded_from_calculations`, `ip_address`, `origin_url`, `channel`
        (one of CHANNELS, default web), `created_at` and `updated_at` (unix seconds or wire
        time; default now and created_at), `tags` (list), `notes` (list), `properties` (the
        end user's properties at survey time; default: the current ones).
        """
        now = self._now()
        prepared = [self._response_row(row, now, number) for number, row in enumerate(rows, 1)]
        return self._insert_checked("response", prepared)

    def load_declines(self, rows: Iterable[Mapping[str, Any]]) -> list[int]:
        """Insert declines given as dicts: `end_user_id` required; `id`, `survey_id`,
        `ip_address`, `origin_url`, `channel`, `created_at`, `updated_at`, `properties`."""
        now = self._now()
        prepared = [self._decline_row(row, now, number) for number, row in enumerate(rows, 1)]
        return self._insert_checked("decline", prepared)

    def _response_row(self, row: Mapping[str, Any], now: int, number: int) -> tuple[Any, ...]:
        if not isinstance(row, Mapping):
            raise ValueError(f"response {number}: must be an object")
        try:
            score = row["score"]
            if type(score) is not int or not 0 <= score <= 10:
                raise ValueError("score must be a whole number from 0 to 10")
            created_at = _time(row.get("created_at"), "created_at", now)
            flags = (COMPLETED if row.get("completed", True) else 0) | (
                EXCLUDED if row.get("excluded_from_calculations", False) else 0)
            notes = row.get("notes")
            if notes is not None and not isinstance(notes, list):
                raise ValueError("notes must be a list")
            channel = _channel(row.get("channel"))
            return (
                _opt_id(row.get("id")), _end_user_id(row), _survey_id(row, channel),
                score, _text_or_none(row.get("text"), "text"), flags,
                _text_or_none(row.get("ip_address"), "ip_address"),
                _text_or_none(row.get("origin_url"), "origin_url"), channel, created_at,
                _time(row.get("updated_at"), "updated_at", created_at), tags_column(row.get("tags")),
                None if not notes else marshal.dumps(notes), _snapshot(row.get("properties")),
            )
        except KeyError as exc:
            raise ValueError(f"response {number}: {exc.args[0]} is missing") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"response {number}: {exc}") from None

    def _decline_row(self, row: Mapping[str, Any], now: int, number: int) -> tuple[Any, ...]:
        if not isinstance(row, Mapping):
            raise ValueError(f"decline {number}: must be an object")
        try:
            created_at = _time(row.get("created_at"), "created_at", now)
            channel = _channel(row.get("channel"))
            return (
                _opt_id(row.get("id")), _end_user_id(row), _survey_id(row, channel),
                _text_or_none(row.get("ip_address"), "ip_address"),
                _text_or_none(row.get("origin_url"), "origin_url"), channel, created_at,
                _time(row.get("updated_at"), "updated_at", created_at),
                _snapshot(row.get("properties")),
            )
        except KeyError as exc:
            raise ValueError(f"decline {number}: {exc.args[0]} is missing") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"decline {number}: {exc}") from None

    def _insert_checked(self, kind: str, rows: list[tuple[Any, ...]]) -> list[int]:
        """Insert in one transaction, refusing rows of unknown end users (nothing written)."""
        columns = _COLUMNS[kind]
        sql = f"INSERT INTO {kind} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        ids: list[int] = []
        with self._lock:
            self._purge_due()
            wanted = _json_ids({row[1] for row in rows})
            known = {found for (found,) in self._db.execute(
                "SELECT id FROM end_user WHERE id IN (SELECT value FROM json_each(?))", (wanted,))}
            for number, row in enumerate(rows, 1):
                if row[1] not in known:
                    raise ValueError(f"{kind} {number}: no end user {row[1]}")
            self._db.execute("BEGIN")
            try:
                for row in rows:
                    ids.append(int(self._db.execute(sql, row).lastrowid or 0))
            except sqlite3.IntegrityError as exc:
                self._db.execute("ROLLBACK")
                raise ValueError(f"{kind}: {exc}") from None
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return ids

    def load_sample_rows(
        self, responses: Iterable[tuple[Any, ...]], declines: Iterable[tuple[Any, ...]]
    ) -> tuple[int, int]:
        """The fast path for generated samples: tuples in SAMPLE_COLUMNS order, inserted in
        batches; into empty tables the indexes are built once afterwards."""
        rebuild = self.count("response") == 0 and self.count("decline") == 0
        if rebuild:
            with self._lock:
                for name in _INDEXES:
                    self._db.execute(f"DROP INDEX {name}")
        try:
            counts = (self._load_batches("response", responses), self._load_batches("decline", declines))
        finally:
            if rebuild:
                with self._lock:
                    for statement in _INDEXES.values():
                        self._db.execute(statement)
        return counts

    def _load_batches(self, kind: str, rows: Iterable[tuple[Any, ...]]) -> int:
        columns = SAMPLE_COLUMNS[kind]
        sql = f"INSERT INTO {kind} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        loaded = 0
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, _LOAD_CHUNK)):
            with self._lock:  # each batch its own transaction: readers are not locked out long
                self._db.execute("BEGIN")
                try:
                    self._db.executemany(sql, batch)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            loaded += len(batch)
        return loaded

    # -- changes -------------------------------------------------------------------------

    def create_response(
        self, end_user_id: int, *, score: int, ip_address: str, origin_url: str,
        text: str | None = None, created_at: int | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> StoredResponse:
        """A response as `POST /v1/end_users/{id}/responses` makes it (web survey, completed)."""
        now = self._now()
        row = (None, end_user_id, SURVEY_IDS[0], score, text, COMPLETED, ip_address, origin_url, 0,
               now if created_at is None else created_at, now, None, None, _snapshot(properties))
        new_id = self._insert_checked("response", [row])[0]
        made = self.response(new_id)
        assert made is not None
        return made

    def create_decline(
        self, end_user_id: int, *, ip_address: str | None = None, origin_url: str | None = None,
        created_at: int | None = None, properties: Mapping[str, Any] | None = None,
    ) -> StoredDecline:
        """A decline as `POST /v1/end_users/{id}/declines` makes it."""
        now = self._now()
        row = (None, end_user_id, SURVEY_IDS[0], ip_address, origin_url, 0,
               now if created_at is None else created_at, now, _snapshot(properties))
        new_id = self._insert_checked("decline", [row])[0]
        made = self.decline(new_id)
        assert made is not None
        return made

    def edit(self, kind: str, item_id: int, **changes: Any) -> None:
        """Change a response (`completed`, `excluded_from_calculations`, `tags`, `notes`,
        `properties`) or a decline (`properties`) and bump its `updated_at` to now, as the
        dashboard does. KeyError for an unknown id, TypeError for a field it does not have."""
        allowed = {"response": {"completed", "excluded_from_calculations", "tags", "notes", "properties"},
                   "decline": {"properties"}}[kind]
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"a {kind} has no field {sorted(unknown)[0]!r} to change")
        assignments = ["updated_at = ?"]
        args: list[object] = [self._now()]
        cleared = raised = 0  # flag bits, written in one assignment
        for name, value in changes.items():
            if name in ("completed", "excluded_from_calculations"):
                bit = COMPLETED if name == "completed" else EXCLUDED
                cleared |= bit
                raised |= bit if value else 0
            elif name == "tags":
                assignments.append("tags = ?")
                args.append(tags_column(value))
            elif name == "notes":
                if not isinstance(value, list):
                    raise ValueError("notes must be a list")
                assignments.append("notes = ?")
                args.append(marshal.dumps(value) if value else None)
            else:
                assignments.append("properties = ?")
                args.append(_snapshot(value))
        if cleared:
            assignments.append("flags = (flags & ~?) | ?")
            args.extend((cleared, raised))
        with self._lock:
            self._purge_due()
            cursor = self._db.execute(
                f"UPDATE {kind} SET {', '.join(assignments)} WHERE id = ?", (*args, item_id)
            )
        if cursor.rowcount == 0:
            raise KeyError(item_id)

    def delete(self, kind: str, end_user_id: int, item_id: int) -> bool:
        """Remove one response or decline of this end user; False if it has none such."""
        if kind not in _COLUMNS:
            raise ValueError(f"no stored {kind}s")
        with self._lock:
            self._purge_due()
            cursor = self._db.execute(
                f"DELETE FROM {kind} WHERE id = ? AND end_user_id = ?", (item_id, end_user_id)
            )
        return cursor.rowcount > 0


def _opt_id(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise ValueError("id must be a positive whole number")
    return value


def _survey_id(row: Mapping[str, Any], channel: int) -> int:
    value = row.get("survey_id")
    if value is None:
        return SURVEY_IDS[channel]
    if type(value) is not int or value < 1:
        raise ValueError("survey_id must be a positive whole number")
    return value


def _end_user_id(row: Mapping[str, Any]) -> int:
    value = row["end_user_id"]
    if type(value) is not int:
        raise ValueError("end_user_id must be a whole number")
    return value


def _snapshot(properties: Mapping[str, Any] | None) -> bytes | None:
    if properties is None:
        return None
    if not isinstance(properties, Mapping):
        raise ValueError("properties must be an object")
    return marshal.dumps(dict(properties))


def _json_ids(ids: set[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
