"""A guard against PySide6 6.12's refcount bug on CPython 3.11: None/True/False run out of refs.

Measured here (PySide6 6.12.0, Python 3.11.7): every wrapped Qt call that returns nothing
(`setText`, `setEnabled`, `processEvents`, ...) drops one reference to None it never took;
`signal.emit()` does the same to True, and a Python `data()` override returning None does it to
None once per call from C++. Shiboken treats those singletons as immortal, which they are only
from Python 3.12 on. After some tens of thousands of calls the interpreter aborts with
"none_dealloc: deallocating None". The guard gives those objects (and the other singletons 3.12
makes immortal) a vast reference headroom once per process, which is what immortality means.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

HEADROOM = 1 << 40  # about 10^12 lost references: decades of calls at any realistic rate
_applied = False


def _singletons() -> tuple[object, ...]:
    return (None, True, False, Ellipsis, NotImplemented, (), "", b"", *range(-5, 257))


def immortalize_singletons() -> bool:
    """Apply the headroom once per process; True when it is in place (or not needed)."""
    global _applied
    if _applied or sys.version_info >= (3, 12):  # 3.12+: these objects are immortal already
        return True
    if hasattr(sys, "gettotalrefcount"):  # a debug build lays objects out differently
        log.warning("refcount guard skipped on a debug build of Python")
        return False
    field = ctypes.c_ssize_t.from_address(id(None))
    # The first word of an object is its refcount on release builds; check before writing
    # (a few temporary references to None come and go during the calls themselves).
    if abs(field.value - sys.getrefcount(None)) > 8:
        log.warning("refcount guard skipped: unexpected object layout")
        return False
    for obj in _singletons():
        ctypes.c_ssize_t.from_address(id(obj)).value += HEADROOM
    _applied = True
    return True
