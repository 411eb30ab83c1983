"""The PySide6 layer: windows, models and dialogs over the Qt-free core."""
