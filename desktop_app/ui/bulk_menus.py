"""Which filter "All end users matching the filter" acts on, and its menus' state.

The filter shown in the bar is the one a bulk action runs on. While that text has an error the
table still shows the last good filter's results, so a count or an action over "the filter"
would be about a filter no longer on screen: such actions are off, with the error as the reason.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMenu

from desktop_app.ui.filter_bar import FilterBar


def _t(text: str) -> str:
    return QCoreApplication.translate("BulkMenus", text)


def matching_filter(bar: FilterBar) -> str | None:
    """The filter text a bulk action over everyone matching runs on; None while it has an error."""
    return None if bar.error is not None else bar.text()


def matching_refusal(bar: FilterBar) -> str:
    """Why bulk actions over the filter are off (the tooltip, and the status line)."""
    message = bar.error.message if bar.error is not None else ""
    return _t("The filter has an error (%1): fix it first, so the action runs on the filter you see.").replace(
        "%1", message
    )


def update_matching_menu(menu: QMenu, bar: FilterBar, shown_filter: str, shown_count: int, title: str) -> None:
    """Enable the menu over everyone matching, counted when the table shows that filter.

    `title` holds %1 for the count, e.g. "All end users &matching the filter (%1)".
    """
    action = menu.menuAction()
    text = matching_filter(bar)
    menu.setEnabled(text is not None)
    if text is None:
        action.setToolTip(matching_refusal(bar))
        menu.setTitle(title.replace(" (%1)", ""))  # no count: the one on screen is another filter's
        return
    action.setToolTip(_t("Acts on every end user the filter “%1” matches.").replace("%1", text) if text.strip()
                      else _t("Acts on every end user (no filter)."))
    # The table's count belongs to the filter it shows; typing may be a moment ahead of it.
    menu.setTitle(title.replace("%1", f"{shown_count:,}") if text == shown_filter else title.replace(" (%1)", ""))
