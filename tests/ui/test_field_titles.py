"""The window names the seed's fields as the catalogue titles them: the table's headers and the
detail panel's read-only rows (what the export dialog lists: tests/test_fields.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel
from pytestqt.qtbot import QtBot

from desktop_app.fields import FIELDS
from desktop_app.ui.columns import BUILTIN_COLUMNS
from desktop_app.ui.detail_panel import DetailPanel
from desktop_app.ui.end_user_model import EndUserTableModel
from desktop_app.ui.services import AppServices


def test_detail_panel_rows_take_their_titles_from_the_catalogue(qtbot: QtBot, services: AppServices) -> None:
    panel = DetailPanel(services)
    qtbot.addWidget(panel)
    own_column = [f for f in FIELDS if f.table == f.key and f.key not in ("email", "external_id")
                  and not f.history_sql]  # the history has its own section
    assert list(panel.readonly_labels) == [f.key for f in own_column]
    for seed in own_column:
        value = panel.readonly_labels[seed.key]
        form = value.parentWidget().layout()
        assert isinstance(form, QFormLayout)
        title = form.labelForField(value)
        assert isinstance(title, QLabel) and title.text() == seed.title + ":", seed.key
    phone = panel.readonly_labels["phone_number"]
    phone_title = phone.parentWidget().layout().labelForField(phone)
    assert isinstance(phone_title, QLabel) and phone_title.text() == "Phone number:"  # "Phone:" before


def test_table_headers_are_the_catalogue_titles(services: AppServices) -> None:
    model = EndUserTableModel(services.query, services.ops, BUILTIN_COLUMNS)
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    shown = {spec.key: title for spec, title in zip(BUILTIN_COLUMNS, headers, strict=True)}
    for seed in FIELDS:
        if seed.table == seed.key:
            assert shown[seed.key] == seed.title
    assert shown["phone_number"] == "Phone number" and shown["surveys"] == "Surveys"
