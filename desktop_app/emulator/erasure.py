"""When a deleted end user is purged: a DELETE marks the person, the purge comes later.

The real service's `DELETE /v1/end_users/{id_or_email}` "marks the user for deletion" and the
purge runs "the following day at 7 AM UTC" (wootric-api.md §4; support says up to several days).
The emulator's choices, stable for the client and its tests:

- DELETE answers **202** with the end user's JSON and marks it; a DELETE of a person already
  marked answers 202 again and keeps the first purge time (idempotent).
- Until the purge the row stays, as the service keeps it: GET by id, by email, external id or
  phone, the list (and its `email` filter), settings, responses and declines all still show it;
  a create with its email is refused ("email has already been taken"); a PUT still changes it.
  Marking does not bump `updated_at` (nothing the person sees changed yet).
- After the purge: 404, gone from every list; a DELETE is 404 too.
- The purge time: by default the next 07:00 UTC after the delete, by the emulator clock (our
  reading of "the following day at 7 AM": a delete at 23:00 UTC is purged 8 hours later, one at
  07:00 sharp a day later); a delay in seconds overrides it (`Emulator(purge_delay=...)`,
  `--purge-delay`, `PUT /_emulator/deletions`). Tests move a `ScaledClock` to reach it, or
  purge every marked person at once (`POST /_emulator/purge`, `EmulatorStore.purge_marked`).
"""

from __future__ import annotations

import math

from desktop_app.clock import Clock

DAY = 86_400
PURGE_HOUR_UTC = 7


def next_purge_run(now: float) -> int:
    """The unix second of the next 07:00 UTC strictly after `now`."""
    second = math.floor(now)
    day_start = second - second % DAY
    run = day_start + PURGE_HOUR_UTC * 3600
    return run if run > second else run + DAY


class PurgeSchedule:
    """The purge time for a delete made now: the nightly run, or a fixed delay in seconds."""

    def __init__(self, clock: Clock, delay: float | None = None) -> None:
        self._clock = clock
        self.delay = delay

    @property
    def delay(self) -> float | None:
        """Seconds from the delete to its purge, or None for the next 07:00 UTC."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float | None) -> None:
        if seconds is not None:
            seconds = float(seconds)
            if not (math.isfinite(seconds) and seconds >= 0):
                raise ValueError("a purge delay is a number of seconds, 0 or more")
        self._delay = seconds

    def purge_at(self) -> int:
        """When a person marked for deletion now is purged (unix seconds, emulator clock)."""
        now = self._clock.now()
        if self._delay is None:
            return next_purge_run(now)
        return math.ceil(now + self._delay)
