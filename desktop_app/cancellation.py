"""The one cancellation base: a run, an export or a wait that someone stopped on purpose.

Every cancellation of the app derives from `Cancelled`, so one `except Cancelled` (and
`logs.is_cancellation`, which the error sinks ask) knows it without a list of names: a cancel
is never shown as an error. It imports nothing, so every layer can derive from it.
"""

from __future__ import annotations


class Cancelled(Exception):
    """Someone (the person, a newer request, the app quitting) stopped the work; silent by design."""
