"""The survey-ops domain model: end users as the seed schema describes them (Qt-free)."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

# What a custom property may hold. The service stores what a form sends, so values that went
# through a PUT come back as strings; numbers and lists survive only from seeded data or JSON.
PropertyValue = str | int | float | bool | list[str]


class DisabledBy(enum.StrEnum):
    """Who turned surveys off for an end user."""

    NOBODY = ""
    ADMIN = "admin"  # every channel switched off through the settings endpoint
    END_USER = "end_user"  # the end user opted out themself: read-only for the app


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """The per-channel survey switches of `/v1/end_users/{id}/settings`."""

    email_nps: bool = True
    mobile_nps: bool = True
    web_nps: bool = True
    surveys_disabled_by_end_user: bool = False
    force_web_survey: bool | None = None
    force_mobile_survey: bool | None = None

    @property
    def disabled_by(self) -> DisabledBy:
        if self.surveys_disabled_by_end_user:
            return DisabledBy.END_USER
        if not (self.email_nps or self.mobile_nps or self.web_nps):
            return DisabledBy.ADMIN
        return DisabledBy.NOBODY

    @property
    def surveys_disabled(self) -> bool:
        return self.disabled_by is not DisabledBy.NOBODY

    @classmethod
    def all_channels(cls, enabled: bool) -> SurveySettings:
        return cls(email_nps=enabled, mobile_nps=enabled, web_nps=enabled)


@dataclass(frozen=True, slots=True)
class EndUser:
    """One end user in the seed's model: integer unix timestamps, free-form properties."""

    id: int
    email: str
    created_at: int
    updated_at: int
    external_id: str | None = None
    external_created_at: int | None = None
    last_surveyed: int | None = None
    phone_number: str | None = None
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    settings: SurveySettings = field(default_factory=SurveySettings)

    @property
    def surveys_disabled(self) -> bool:
        return self.settings.surveys_disabled

    @property
    def disabled_by(self) -> DisabledBy:
        return self.settings.disabled_by

    def to_seed_dict(self) -> dict[str, object]:
        """The end user as the seed schema (`end-user.schema.json`) spells it."""
        out: dict[str, object] = {
            "id": self.id,
            "email": self.email,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "surveys_disabled": self.surveys_disabled,
            "properties": dict(self.properties),
        }
        for name in ("external_id", "external_created_at", "last_surveyed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    """One survey answer of an end user (read-only in this app).

    `updated_at` moves when the team tags, excludes or annotates it after the fact (it is the
    creation time when the service does not say); `end_user_properties` are the end user's as
    of survey time.
    """

    id: int
    end_user_id: int
    score: int
    created_at: int
    text: str | None = None
    survey_id: int | None = None
    completed: bool = True
    channel: str | None = None
    updated_at: int = 0
    excluded_from_calculations: bool = False
    ip_address: str | None = None
    origin_url: str | None = None
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    end_user_email: str | None = None
    end_user_properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SurveyDecline:
    """One declined survey: the end user dismissed it without answering."""

    id: int
    end_user_id: int
    created_at: int
    updated_at: int
    survey_id: int | None = None
    origin_url: str | None = None


def canonical_value(value: object) -> str | None:
    """A property (or field) value as the service will hand it back after a form-encoded PUT.

    Three-way merges and "did it change" checks compare these, so 1000 and "1000" are equal.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return json.dumps([str(v) for v in value])
    return str(value)
