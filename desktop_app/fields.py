"""The end user's fields, described once: what the table, the export, the filter language, the
sort and the command line each take their names, titles and kinds from.

A seed field is a column of the cache's `end_user` row (and a `ResultRow` attribute). Custom
properties are not listed here: their type comes from their key's suffix (`property_types`,
re-exported below), and a column, sort or export names one as `prop:<key>`.

A new seed field goes in `FIELDS` (and in `end_user`/`ResultRow`); the table, export, filter
and `--sort` pick it up from here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from desktop_app.property_types import PropertyType, is_date_property, property_type

__all__ = [
    "FIELDS", "FIELDS_BY_KEY", "HISTORY_FIELDS", "MARKERS", "PROPERTY_PREFIX", "SURVEYS", "FieldKind", "PropertyType",
    "EndUserField", "field_named", "filter_fields", "is_date_property", "property_key", "property_type",
    "sort_names",
]

# How a column, a sort or an export names one custom property: `prop:plan`.
PROPERTY_PREFIX = "prop:"

# The table's two columns that show several fields at once.
SURVEYS = "surveys"  # surveys on/off and who turned them off
MARKERS = "markers"  # pending edits, conflict, deleted here


class FieldKind(enum.StrEnum):
    """What a field's values are, which decides how each reader shows and compares them."""

    TEXT = "text"
    INTEGER = "integer"  # ids, counts
    DATE = "date"  # unix seconds (UTC)
    BOOL = "bool"
    CHOICE = "choice"  # a fixed vocabulary the app owns (disabled_by)
    PROPERTY = "property"  # one custom property (an export's `prop:<key>` column)


@dataclass(frozen=True, slots=True)
class EndUserField:
    """One field of the end user row.

    `key` is the stored column, the `ResultRow` attribute, the export's header cell and the
    sort's name. `short` is a name the filter and `--sort` also take (`created`); the filter's
    help shows it in place of the key. `table` is the window's column showing the field: its
    own (the key), `SURVEYS` or `MARKERS`. `words` names the field inside a sentence
    ("end users whose last surveyed is ...").
    """

    key: str
    title: str
    kind: FieldKind
    words: str
    short: str = ""
    table: str = ""
    filters: bool = False  # `name:value` in the filter language
    sorts: bool = True
    exports: bool = True
    local: bool = False  # the cache's own state, not the service's
    # Read from the survey history, not the `end_user` row: the SQL expression (over
    # `end_user.id`) a read selects and sorts by.
    history_sql: str = ""

    @property
    def filter_name(self) -> str:
        return self.short or self.key


FIELDS: tuple[EndUserField, ...] = (
    EndUserField("id", "ID", FieldKind.INTEGER, "id", table="id", filters=True),
    EndUserField("email", "Email", FieldKind.TEXT, "email", table="email", filters=True),
    EndUserField("external_id", "External ID", FieldKind.TEXT, "external id", table="external_id", filters=True),
    EndUserField("phone_number", "Phone number", FieldKind.TEXT, "phone", short="phone", table="phone_number",
              filters=True),
    EndUserField("created_at", "Created", FieldKind.DATE, "created", short="created", table="created_at",
              filters=True),
    EndUserField("updated_at", "Updated", FieldKind.DATE, "updated", short="updated", table="updated_at",
              filters=True),
    EndUserField("last_surveyed", "Last surveyed", FieldKind.DATE, "last surveyed", table="last_surveyed",
              filters=True),
    EndUserField("external_created_at", "External created", FieldKind.DATE, "created (their system)",
              table="external_created_at", filters=True),
    # Filtered by words (surveys:off, disabled_by:admin), not by value.
    EndUserField("surveys_disabled", "Surveys off", FieldKind.BOOL, "surveys off", table=SURVEYS),
    EndUserField("disabled_by", "Disabled by", FieldKind.CHOICE, "disabled by", table=SURVEYS),
    # Local state, not the service's: useful to hand over "everything still pending" (is:pending).
    EndUserField("pending_count", "Pending edits", FieldKind.INTEGER, "pending edits", table=MARKERS, local=True),
    EndUserField("has_conflict", "Conflict", FieldKind.BOOL, "conflict", table=MARKERS, local=True),
    EndUserField("pending_delete", "Deleted locally", FieldKind.BOOL, "deleted locally", table=MARKERS,
              local=True),
)

# The survey history beside each row, from `survey_summary` (kept with the responses): the
# latest response that counts (not excluded from calculations, as NPS) and how many there are.
_SUMMARY = "(SELECT {col} FROM survey_summary AS s WHERE s.end_user_id = end_user.id)"
HISTORY_FIELDS: tuple[EndUserField, ...] = (
    EndUserField("latest_score", "Latest score", FieldKind.INTEGER, "latest score", table="latest_score",
                 history_sql=_SUMMARY.format(col="s.latest_score")),
    # The comment of that same response, so the score and its reason line up.
    EndUserField("latest_comment", "Latest comment", FieldKind.TEXT, "latest comment", table="latest_comment",
                 history_sql="(SELECT r.text FROM survey_summary AS s JOIN response AS r"
                             " ON r.id = s.latest_response_id WHERE s.end_user_id = end_user.id)"),
    EndUserField("response_count", "Responses", FieldKind.INTEGER, "responses", table="response_count",
                 history_sql=f"coalesce({_SUMMARY.format(col='s.response_count')}, 0)"),
)
FIELDS = FIELDS + HISTORY_FIELDS
FIELDS_BY_KEY = {f.key: f for f in FIELDS}
_BY_NAME = {**FIELDS_BY_KEY, **{f.short: f for f in FIELDS if f.short}}


def field_named(name: str) -> EndUserField | None:
    """The field a key or short name (`created`, `phone`) stands for; None for anything else."""
    return _BY_NAME.get(name)


def filter_fields() -> tuple[EndUserField, ...]:
    return tuple(f for f in FIELDS if f.filters)


def sort_names() -> tuple[str, ...]:
    """The names `SortSpec` (and `--sort`) take for seed fields, keys first."""
    return tuple(f.key for f in FIELDS if f.sorts)


def property_key(name: str) -> str | None:
    """`plan` for `prop:plan`; None when `name` does not name a property."""
    return name[len(PROPERTY_PREFIX):] if name.startswith(PROPERTY_PREFIX) else None
