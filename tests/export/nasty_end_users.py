"""End users with every value that breaks naive CSV: the export tests' and LibreOffice check's data.

Also builds a real cache file from them (the `end_user` table, Core bulk insert), so the tests
and `scripts/check_export_libreoffice.py` export from SQLite exactly like the app does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert
from sqlmodel import SQLModel

from desktop_app.cache.schema.history_tables import HISTORY_TABLES
from desktop_app.cache.schema.tables import EndUserRow

LONG_VALUE = ('long, "quoted"\r\nvalue ' * 5000)[:100_000]  # 100k characters


@dataclass(frozen=True)
class SeedUser:
    """One end_user row to insert; properties as a dict (stored as JSON)."""

    id: int
    email: str
    created_at: int = 1_714_564_800  # 2024-05-01T12:00:00Z
    updated_at: int = 1_714_564_801
    external_id: str | None = None
    external_created_at: int | None = None
    last_surveyed: int | None = None
    phone_number: str | None = None
    surveys_disabled: bool = False
    disabled_by: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    pending_count: int = 0
    has_conflict: bool = False
    pending_delete: bool = False


NASTY_USERS: tuple[SeedUser, ...] = (
    SeedUser(
        1,
        "plain@example.com",
        external_id="ext,with,commas",
        last_surveyed=1_700_000_000,
        phone_number="+14155554131",  # E.164: a plain number, never prefixed
        properties={"plan": "pro", "seats_count": 12, "revenue_amount": "1000"},
    ),
    SeedUser(
        2,
        'quote"in@example.com',
        external_id='say "hi", then ""leave""',
        properties={"plan": 'Pro "Plus"', "note": "line one\nline two"},
    ),
    SeedUser(
        3,
        "crlf@example.com",
        external_id="windows\r\nline",
        properties={"note": "a\r\nb\rc\nd", "empty": "", "null_value": None},
    ),
    SeedUser(
        4,
        "zoë.ünïcödé@例え.jp",
        external_id="東京-🎉👩‍💻",
        properties={
            "greeting": "مرحبا بالعالم",  # right to left
            "mixed": "abc \u202edcba\u202c مرحبا 123",  # with a right-to-left override
            "emoji": "🙂🏳️‍🌈",
        },
    ),
    SeedUser(
        5,
        "=HYPERLINK(\"http://evil.example\",\"click\")@example.com",
        external_id="+1+1",
        phone_number="-2+3",
        surveys_disabled=True,
        disabled_by="admin",
        properties={
            "formula": "=SUM(A1:A2)",
            "at": "@cmd",
            "tab": "\tstarts with tab",
            "cr": "\rstarts with CR",
            "minus_text": "-not a number",
            "minus_number_text": "-12.5",
            "plus_number_text": "+3",
            "negative": -5,
            "negative_float": -0.25,
            "array_formula": ["=evil", "ok"],
            # trimmed before evaluating by some spreadsheets, or read as the ASCII signs
            "space_formula": " =1+1",
            "newline_formula": "\n=1+1",
            "nbsp_at": "\u00a0@cmd",
            "fullwidth_formula": "\uff1d1+1",
            "ideographic_minus": "\u3000\uff0d1",
            "space_number_text": " -5",
            "indented_text": "  indented",
        },
    ),
    SeedUser(
        6,
        "@at-start@example.com",
        external_created_at=1_600_000_000,
        properties={
            "features_array": ["sso", "api"],
            "empty_array": [],
            "tricky_array": ["a; b", "c,d", 'e"f'],
            "numbers_array": [-1, 2.5, True, None],
            "nested": {"b": [1, 2], "a": "x"},
            "flag": True,
            "off": False,
            "big": 2**62,
            "tiny": 1e-7,
            "float_whole": 3.0,
        },
    ),
    SeedUser(
        7,
        "long@example.com",
        external_id=LONG_VALUE,
        properties={
            "long": LONG_VALUE,
            "key,with,commas": "v1",
            'key "quoted"': "v2",
            "key\nwith newline": "v3",
            " spaced key ": "v4",
            "=formula_key": "v5",
            "": "empty key",
            "Ünïcödé key": "v6",
        },
    ),
    SeedUser(
        8,
        "no-props@example.com",
        created_at=0,  # the epoch itself
        updated_at=86_399,
        last_surveyed=-86_400,  # before 1970: must still be a valid timestamp
        properties={},
    ),
    SeedUser(
        9,
        "Banana@example.com",
        disabled_by="end_user",
        surveys_disabled=True,
        properties={"apple": "1", "Banana": "2", "banana": "3", "cherry": "4", "nul": "a\x00b"},
        pending_count=2,
        has_conflict=True,
    ),
)


def make_cache(path: Path, users: Sequence[SeedUser]) -> Engine:
    """A cache file with the real `end_user` table holding `users`."""
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine, tables=[EndUserRow.__table__, *HISTORY_TABLES])  # rows read history
    rows = [
        {
            "id": u.id,
            "email": u.email,
            "created_at": u.created_at,
            "updated_at": u.updated_at,
            "external_id": u.external_id,
            "external_created_at": u.external_created_at,
            "last_surveyed": u.last_surveyed,
            "phone_number": u.phone_number,
            "surveys_disabled": u.surveys_disabled,
            "disabled_by": u.disabled_by,
            "settings_json": "{}",
            "properties_json": json.dumps(u.properties, ensure_ascii=False),
            "pending_count": u.pending_count,
            "has_conflict": u.has_conflict,
            "pending_delete": u.pending_delete,
        }
        for u in users
    ]
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(EndUserRow.__table__), rows)
    return engine
