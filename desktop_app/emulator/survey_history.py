"""Sample survey responses and declines of an end user, derived on demand and deterministically.

Nothing is stored: an end user's history follows from (emulator seed, end-user id, created_at),
and only the entries whose time has come (`<= now`) are visible, so history grows as the
emulator clock runs. Ids are stable: response ids are `end_user_id * 8 + k` (k < 4), decline
ids `end_user_id * 8 + 4 + k`.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.domain import EndUser

_MASK = (1 << 64) - 1
_CHANNELS = ("email", "web", "mobile:ios", "mobile:android", "web")
_TEXTS = {
    "detractor": ("Too expensive for what it does.", "The export keeps timing out.",
                  "Support took a week to answer.", "Hard to find anything in the new UI."),
    "passive": ("Does the job.", "Fine, but the mobile app lags.", "Good, could be cheaper.",
                "OK overall."),
    "promoter": ("Love it!", "Our team uses it every day.", "Great support, thank you!",
                 "The dashboards are excellent.", "Saved us hours every week."),
}
_TAGS = ("pricing", "support", "ux", "performance", "mobile", "onboarding")
# A realistic NPS spread: scores 9-10 most common, a tail of detractors.
_SCORES = (0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10,
           10, 3, 6, 8, 9, 10)
_HISTORY_SPAN = 400 * 86_400  # entries fall within this long after the end user was created


def _mix(value: int) -> int:
    """splitmix64: a cheap, well-spread hash to draw from without a Random object."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def bucket(score: int) -> str:
    """The NPS bucket of a score: promoter 9-10, passive 7-8, detractor 0-6."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass(frozen=True, slots=True)
class SampleResponse:
    """One sample survey response."""

    id: int
    end_user_id: int
    survey_id: int
    score: int
    text: str | None
    channel: str
    created_at: int
    tags: tuple[str, ...]
    ip_address: str


@dataclass(frozen=True, slots=True)
class SampleDecline:
    """One sample survey decline (the end user dismissed the survey)."""

    id: int
    end_user_id: int
    survey_id: int
    created_at: int
    ip_address: str


def _response_draws(user: EndUser, seed: int, now: int) -> list[tuple[int, int, int]]:
    """(created_at, k, draw) of the end user's visible responses, oldest first."""
    base = _mix(seed * 0x1000003 ^ user.id ^ (user.created_at << 20))
    draws = []
    for k in range(base & 3):  # zero to three responses
        draw = _mix(base + k)
        created_at = user.created_at + draw % _HISTORY_SPAN
        if created_at <= now:
            draws.append((created_at, k, draw))
    draws.sort()
    return draws


def _response(user: EndUser, created_at: int, k: int, draw: int) -> SampleResponse:
    score = _SCORES[(draw >> 32) & 31]
    texts = _TEXTS[bucket(score)]
    text = texts[(draw >> 40) % len(texts)] if (draw >> 48) & 3 else None
    return SampleResponse(
        id=user.id * 8 + k,
        end_user_id=user.id,
        survey_id=1000 + (draw >> 58) % 3,
        score=score,
        text=text,
        channel=_CHANNELS[(draw >> 36) % len(_CHANNELS)],
        created_at=created_at,
        tags=(_TAGS[(draw >> 50) % len(_TAGS)],) if text and (draw >> 56) & 1 else (),
        ip_address=f"203.0.113.{(draw >> 20) & 255}",
    )


def responses_of(user: EndUser, seed: int, now: int) -> list[SampleResponse]:
    """The end user's responses up to `now`, oldest first."""
    return [_response(user, *entry) for entry in _response_draws(user, seed, now)]


def last_response_of(user: EndUser, seed: int, now: int) -> SampleResponse | None:
    """The newest response up to `now` (the end user's `last_response`), or None."""
    draws = _response_draws(user, seed, now)
    return _response(user, *draws[-1]) if draws else None


def declines_of(user: EndUser, seed: int, now: int) -> list[SampleDecline]:
    """The end user's declines up to `now`, oldest first."""
    base = _mix(seed * 0x1000003 ^ user.id ^ (user.created_at << 20) ^ 0xDEC1)
    out: list[SampleDecline] = []
    for k in range((base & 7) // 3):  # zero to two declines
        draw = _mix(base + k)
        created_at = user.created_at + draw % _HISTORY_SPAN
        if created_at <= now:
            out.append(SampleDecline(
                id=user.id * 8 + 4 + k,
                end_user_id=user.id,
                survey_id=1000 + (draw >> 58) % 3,
                created_at=created_at,
                ip_address=f"198.51.100.{(draw >> 20) & 255}",
            ))
    out.sort(key=lambda d: (d.created_at, d.id))
    return out
