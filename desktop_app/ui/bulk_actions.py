"""Bulk actions over a selection or everything a filter matches, with a preview that counts.

Prepare (ask what to do, on the GUI thread) → preview (count who changes, in the background)
→ confirm ("Disable surveys for 1,234 end users? 12 opted out themselves and are unchanged.")
→ apply on the serial write queue, as one cache call: one undo step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from desktop_app.cache.filters.parse import FilterError
from desktop_app.cache.records import EditRejected
from desktop_app.cache.filters.words import describe_filter
from desktop_app.domain import DisabledBy, PropertyValue, canonical_value
from desktop_app.sync.bar_state import bar_state
from desktop_app.sync.undo_words import undo_question_note
from desktop_app.ui.property_editors import PropertyValueDialog, value_as_text

if TYPE_CHECKING:
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.store import Cache
    from desktop_app.ui.services import AppServices

ROW_CHUNK = 2000  # rows decoded per query when classifying a selection
SAMPLE_COUNT = 5  # end users shown before → after in a confirmation


class BulkKind(enum.Enum):
    DISABLE_SURVEYS = "disable_surveys"
    ENABLE_SURVEYS = "enable_surveys"
    SET_PROPERTY = "set_property"
    REMOVE_PROPERTY = "remove_property"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class BulkRequest:
    """What to do: the kind, and the property key/value for property actions."""

    kind: BulkKind
    key: str | None = None
    value: PropertyValue | None = None


@dataclass(frozen=True, slots=True)
class BulkScope:
    """Whom to do it to: explicit ids (a selection) or everything `filter_text` matches.

    `selected`: the person picked rows (a selection of a whole result is run by its filter,
    but is still named as the selection it was)."""

    ids: tuple[int, ...] | None = None
    filter_text: str | None = None
    selected: bool = False


@dataclass(frozen=True, slots=True)
class SampleChange:
    """One end user the action changes, before → after, for the confirmation."""

    end_user: str  # email, else external id, else the id
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class BulkPreview:
    """Who the action changes and who it leaves alone, counted before anything is written."""

    request: BulkRequest
    target_ids: tuple[int, ...]  # the ids the action will be applied to
    scope_size: int  # end users in the scope
    # surveys off by the end user themself: left unchanged (for a delete: among those deleted,
    # whose opt-out goes with them)
    opted_out: int = 0
    already: int = 0  # already in the requested state: left unchanged
    scope: BulkScope = BulkScope()
    samples: tuple[SampleChange, ...] = ()  # the first few of target_ids, in table order


def _t(text: str) -> str:
    return QCoreApplication.translate("BulkActions", text)


def _n(count: int) -> str:
    return f"{count:,}"


def action_label(request: BulkRequest, count: int) -> str:
    """The action's name for menus and undo: "Disable surveys (1,234)"."""
    names = {
        BulkKind.DISABLE_SURVEYS: _t("Disable surveys"),
        BulkKind.ENABLE_SURVEYS: _t("Enable surveys"),
        BulkKind.SET_PROPERTY: _t("Set %1").replace("%1", request.key or ""),
        BulkKind.REMOVE_PROPERTY: _t("Remove %1").replace("%1", request.key or ""),
        BulkKind.DELETE: _t("Delete"),
    }
    return f"{names[request.kind]} ({_n(count)})"


def preview_text(preview: BulkPreview) -> str:
    """The confirmation question, counting who changes and who does not."""
    count = len(preview.target_ids)
    users = _t("1 end user") if count == 1 else _t("%1 end users").replace("%1", _n(count))
    kind = preview.request.kind
    if kind is BulkKind.DISABLE_SURVEYS:
        text = _t("Disable surveys for %1?").replace("%1", users)
    elif kind is BulkKind.ENABLE_SURVEYS:
        text = _t("Enable surveys for %1?").replace("%1", users)
    elif kind is BulkKind.SET_PROPERTY:
        value = preview.request.value
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        text = _t("Set %1 to “%2” for %3?").replace("%1", preview.request.key or "").replace("%2", shown).replace("%3", users)
    elif kind is BulkKind.REMOVE_PROPERTY:
        text = _t("Remove %1 from %2?").replace("%1", preview.request.key or "").replace("%2", users)
    else:
        text = _t("Delete %1? They are removed from the service when the change is sent.").replace("%1", users)
    notes: list[str] = []
    if kind is BulkKind.DELETE:
        if preview.opted_out:
            notes.append(_opt_out_erased(preview.opted_out, count))
    elif preview.opted_out:
        notes.append(
            _t("%1 opted out themselves and are unchanged.").replace("%1", _n(preview.opted_out))
            if preview.opted_out != 1 else _t("1 opted out themself and is unchanged.")
        )
    if preview.already:
        notes.append(_t("%1 already match and are unchanged.").replace("%1", _n(preview.already)))
    return " ".join([text, *notes])


def _opt_out_erased(opted_out: int, count: int) -> str:
    """The delete's warning (lists.actions.opted_out_words says the same for a list)."""
    if opted_out == 1:
        who = _t("1 of them opted") if count > 1 else _t("This end user opted")
    else:
        who = _t("%1 of them opted").replace("%1", _n(opted_out))
    return who + _t(" out of surveys themselves. The opt-out is erased with them: if someone "
                    "creates them again later (an import, a create, the service's own tracking), "
                    "they will be surveyed again.")


def _row_changes(request: BulkRequest, row: Any) -> str:
    """"change", "opted_out" or "already" for one ResultRow."""
    disabled_by = str(getattr(row, "disabled_by", ""))
    disabled = bool(getattr(row, "surveys_disabled", False))
    kind = request.kind
    if kind in (BulkKind.DISABLE_SURVEYS, BulkKind.ENABLE_SURVEYS):
        if disabled_by == DisabledBy.END_USER.value:
            return "opted_out"
        if disabled == (kind is BulkKind.DISABLE_SURVEYS):
            return "already"
        return "change"
    properties = getattr(row, "properties", None) or {}
    if kind is BulkKind.SET_PROPERTY:
        current = properties.get(request.key) if request.key in properties else None
        if request.key in properties and canonical_value(current) == canonical_value(request.value):
            return "already"
        return "change"
    if kind is BulkKind.REMOVE_PROPERTY:
        return "change" if request.key in properties else "already"
    return "change"


def _within(filter_text: str, term: str) -> str:
    return f"({filter_text}) {term}" if filter_text.strip() else term


def _preview_by_filter(query: Any, request: BulkRequest, text: str, sort: Any) -> BulkPreview | None:
    """Surveys and remove-property previews as SQL counts: no rows decoded, fast at 1M."""
    kind = request.kind
    if kind is BulkKind.DISABLE_SURVEYS:
        change, left = "surveys:enabled", "disabled_by:admin"
    elif kind is BulkKind.ENABLE_SURVEYS:
        change, left = "disabled_by:admin", "surveys:enabled"
    elif kind is BulkKind.REMOVE_PROPERTY and request.key:
        target = query.ids(_within(text, f"has:{request.key}"), sort)
        return BulkPreview(request, tuple(int(i) for i in target), query.count(text),
                           already=query.count(text) - len(target))
    else:
        return None
    target = query.ids(_within(text, change), sort)
    return BulkPreview(
        request,
        tuple(int(i) for i in target),
        query.count(text),
        opted_out=query.count(_within(text, "disabled_by:end_user")),
        already=query.count(_within(text, left)),
    )


def missing_value(request: BulkRequest) -> bool:
    """Set property without a value: setting "" is not removing, which is its own action."""
    return request.kind is BulkKind.SET_PROPERTY and (
        not request.key or request.value is None or request.value == "" or request.value == []
    )


def compute_preview(query: Any, request: BulkRequest, scope: BulkScope, sort: Any) -> BulkPreview:
    """Classify every end user in scope, and read a few of them before → after (runs in the
    background; Qt-free)."""
    preview = _classify(query, request, scope, sort)
    head = list(preview.target_ids[:SAMPLE_COUNT])
    rows = query.rows_by_ids(head) if head else {}
    samples = tuple(_sample(request, rows[i]) for i in head if i in rows)
    return replace(preview, scope=scope, samples=samples)


def _sample(request: BulkRequest, row: Any) -> SampleChange:
    name = str(row.email or row.external_id or row.id)
    kind = request.kind
    if kind in (BulkKind.DISABLE_SURVEYS, BulkKind.ENABLE_SURVEYS):
        on, off = _t("surveys on"), _t("surveys off (admin)")
        return SampleChange(name, *((on, off) if kind is BulkKind.DISABLE_SURVEYS else (off, on)))
    if kind is BulkKind.DELETE:
        return SampleChange(name, _t("kept"), _t("deleted"))
    key = request.key or ""
    properties = row.properties or {}
    before = _quoted(key, properties[key]) if key in properties else _t("not set")
    after = _quoted(key, request.value) if kind is BulkKind.SET_PROPERTY else _t("not set")
    return SampleChange(name, before, after)


def _quoted(key: str, value: Any) -> str:
    return f"“{value_as_text(key, value)}”"


def _classify(query: Any, request: BulkRequest, scope: BulkScope, sort: Any) -> BulkPreview:
    if scope.ids is None and request.kind is not BulkKind.DELETE:
        try:
            by_filter = _preview_by_filter(query, request, scope.filter_text or "", sort)
        except FilterError:  # a term the language spells differently: classify the rows instead
            by_filter = None
        if by_filter is not None:
            return by_filter
    if scope.ids is not None:
        ids: Sequence[int] = scope.ids
    else:
        ids = query.ids(scope.filter_text or "", sort)
    if request.kind is BulkKind.DELETE:
        return BulkPreview(request, tuple(int(i) for i in ids), len(ids),
                           opted_out=_opted_out_among(query, scope, ids))
    target: list[int] = []
    opted_out = already = 0
    for start in range(0, len(ids), ROW_CHUNK):
        chunk = [int(i) for i in ids[start:start + ROW_CHUNK]]
        rows = query.rows_by_ids(chunk)
        for end_user_id in chunk:
            row = rows.get(end_user_id)
            if row is None:
                continue  # gone since the ids were read
            verdict = _row_changes(request, row)
            if verdict == "change":
                target.append(end_user_id)
            elif verdict == "opted_out":
                opted_out += 1
            else:
                already += 1
    return BulkPreview(request, tuple(target), len(ids), opted_out, already)


def _opted_out_among(query: Any, scope: BulkScope, ids: Sequence[int]) -> int:
    """How many of the people a delete erases turned surveys off themselves."""
    if scope.ids is None:
        try:
            return int(query.count(_within(scope.filter_text or "", "disabled_by:end_user")))
        except FilterError:
            pass
    count = 0
    for start in range(0, len(ids), ROW_CHUNK):
        rows = query.rows_by_ids([int(i) for i in ids[start:start + ROW_CHUNK]])
        count += sum(1 for row in rows.values() if row.disabled_by is DisabledBy.END_USER)
    return count


def scope_text(preview: BulkPreview) -> str:
    """Which end users, in words: the selection, or the filter the action runs on with its count."""
    scope, size = preview.scope, preview.scope_size
    users = _t("1 end user") if size == 1 else _t("%1 end users").replace("%1", _n(size))
    if scope.ids is not None or scope.selected:
        return _t("Which: the %1 you selected.").replace("%1", users)
    text = (scope.filter_text or "").strip()
    if not text:
        return _t("Which: all %1 (no filter).").replace("%1", users)
    try:
        words = describe_filter(text)
    except FilterError:
        words = ""
    line = _t("Which: the %1 matching the filter “%2”").replace("%1", users).replace("%2", text)
    return line + (_t(" — %1.").replace("%1", words) if words else ".")


def samples_text(preview: BulkPreview) -> str:
    """A few of the end users it changes, before → after, and how many more."""
    lines = [f"{s.end_user}: {s.before} → {s.after}" for s in preview.samples]
    more = len(preview.target_ids) - len(preview.samples)
    if lines and more > 0:
        lines.append(_t("and %1 more").replace("%1", _n(more)))
    return "\n".join(lines)


def confirmation_text(preview: BulkPreview) -> str:
    """Everything the confirmation says: the question, which end users, a before → after."""
    parts = [preview_text(preview), scope_text(preview), samples_text(preview)]
    return "\n\n".join(part for part in parts if part)


def apply_bulk(cache: Cache, preview: BulkPreview) -> CacheChanges:
    """One cache call for the whole action (one transaction, one undo step, named as a bulk
    action: "Undo Disable surveys (1)" even when the selection was one end user)."""
    ids = list(preview.target_ids)
    request = preview.request
    if request.kind is BulkKind.DISABLE_SURVEYS:
        return cache.set_surveys_enabled(ids, False, bulk=True)
    if request.kind is BulkKind.ENABLE_SURVEYS:
        return cache.set_surveys_enabled(ids, True, bulk=True)
    if request.kind is BulkKind.DELETE:
        return cache.delete_end_users(ids, bulk=True)
    if not request.key or (request.kind is BulkKind.SET_PROPERTY and missing_value(request)):
        # The window asks for both first; a request without them writes nothing.
        raise EditRejected(_t("A property action needs a key and a value. Nothing was changed."))
    if request.kind is BulkKind.SET_PROPERTY and request.value is not None:
        return cache.set_property(ids, request.key, request.value, bulk=True)
    return cache.unset_property(ids, request.key, bulk=True)


class BulkActionRunner(QObject):
    """Drives one bulk action through its dialogs and the task runner."""

    started = Signal(str)  # "Counting…" / "Disabling surveys…" for the status line
    finished = Signal(str)  # the action's label, after it was written
    failed = Signal(str)  # a message for the person
    cancelled = Signal()

    def __init__(self, services: AppServices, parent_widget: QWidget, sort: Callable[[], Any]) -> None:
        super().__init__(parent_widget)
        self._services = services
        self._parent = parent_widget
        self._sort = sort
        self.confirm: Callable[[BulkPreview], bool] = self._ask  # replaced by tests

    def ask_request(self, kind: BulkKind, known_keys: Sequence[str]) -> BulkRequest | None:
        """The property key (and value) for property actions; None when the person cancels."""
        if kind is BulkKind.SET_PROPERTY:
            dialog = PropertyValueDialog(_t("Set property"), known_keys, self._parent)
            if dialog.exec() != PropertyValueDialog.DialogCode.Accepted:
                return None
            return BulkRequest(kind, dialog.result_key, dialog.result_value)
        if kind is BulkKind.REMOVE_PROPERTY:
            dialog = PropertyValueDialog(_t("Remove property"), known_keys, self._parent, ask_value=False)
            if dialog.exec() != PropertyValueDialog.DialogCode.Accepted:
                return None
            return BulkRequest(kind, dialog.result_key)
        return BulkRequest(kind)

    def undo_note(self) -> str:
        """What the question may promise about undo, as sync stands now."""
        sync = self._services.sync
        return undo_question_note(bar_state(sync.status if sync is not None else None),
                                  sync.grace if sync is not None else 0.0)

    def run(self, request: BulkRequest, scope: BulkScope) -> None:
        if missing_value(request):
            self.failed.emit(_t("Set %1 needs a value; to clear it, use Remove property. Nothing was changed.")
                             .replace("%1", request.key or _t("property")))
            return
        query, sort = self._services.query, self._sort()
        self.started.emit(_t("Counting end users…"))
        self._services.ops.query(
            lambda: compute_preview(query, request, scope, sort),
            self._previewed,
            failed=lambda exc: self.failed.emit(str(exc) or type(exc).__name__),
            name="bulk preview",
        )

    def _previewed(self, preview: BulkPreview) -> None:
        if not preview.target_ids:
            self.failed.emit(preview_text(preview).split("?", 1)[-1].strip() or _t("Nothing to change."))
            return
        if not self.confirm(preview):
            self.cancelled.emit()
            return
        label = action_label(preview.request, len(preview.target_ids))
        self.started.emit(_t("%1…").replace("%1", label))
        self._services.ops.write(
            lambda cache: apply_bulk(cache, preview),
            lambda _changes: self.finished.emit(label),
            failed=lambda exc: self.failed.emit(getattr(exc, "message", None) or str(exc) or type(exc).__name__),
            name=label,
        )

    def _ask(self, preview: BulkPreview) -> bool:
        box, ok = self.confirmation_box(preview)
        box.exec()
        return box.clickedButton() is ok

    def confirmation_box(self, preview: BulkPreview) -> tuple[QMessageBox, QAbstractButton]:
        """The question, which end users (the filter in words, with its count), a before → after."""
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setTextFormat(Qt.TextFormat.PlainText)  # values and filters are typed text, never markup
        box.setWindowTitle(action_label(preview.request, len(preview.target_ids)))
        box.setText(preview_text(preview))
        box.setInformativeText("\n\n".join(part for part in (
            scope_text(preview), samples_text(preview), self.undo_note(),
        ) if part))
        ok = box.addButton(action_label(preview.request, len(preview.target_ids)), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(ok)
        return box, ok
