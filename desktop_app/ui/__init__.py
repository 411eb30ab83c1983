"""The PySide6 layer: windows, models and dialogs over the Qt-free core."""

from __future__ import annotations

from desktop_app.ui.pyside_refcounts import immortalize_singletons

# Before any Qt object exists: PySide6 6.12 on Python 3.11 loses references to None and True
# on ordinary calls; see pyside_refcounts for the measurements.
immortalize_singletons()
