#!/usr/bin/env python3
"""Screenshots for the docs: runs the real app in demo mode under Xvfb and saves PNGs to docs/.

    python3 docs/make_screenshots.py            # re-runs itself under xvfb-run when no display

Writes sign-in.png, sync-progress.png, main-window.png, main-window-1024.png, export.png,
nps.png, bulk-confirm.png, list-report.png, list-preview.png, editor.png and conflicts.png. Everything
runs on loopback against the embedded emulator, in a throwaway data directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SCREEN = "1440x900x24"


def _under_xvfb() -> int:
    """Run this script again inside a private X server at a fixed screen size."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        sys.exit("xvfb-run is needed (apt-get install xvfb xauth)")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", WOOTRIC_SCREENSHOTS_INNER="1")
    return subprocess.call([xvfb, "-a", "-s", f"-screen 0 {SCREEN}", sys.executable, __file__],
                           env=env, cwd=ROOT)


def main() -> int:
    if os.environ.get("WOOTRIC_SCREENSHOTS_INNER") != "1":
        return _under_xvfb()
    home = Path(tempfile.mkdtemp(prefix="wootric-desk-shots-"))
    os.environ["WOOTRIC_DESK_HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")  # QSettings: never the person's own
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QWidget

    from desktop_app.credentials import MemoryOnly
    from desktop_app.sync.status import SyncState
    from desktop_app.ui.app import DemoSettings, DeskApp, build_application

    app = build_application([])
    QCoreApplication.setOrganizationName("Wootric Desk screenshots")

    def settle(seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def wait_until(what: str, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                status = desk.session.sync.status if desk.session is not None else None
                raise SystemExit(f"timed out waiting for {what} (sync: {status})")
            app.processEvents()
            time.sleep(0.02)

    def save(widget: QWidget, name: str) -> None:
        settle()
        path = DOCS / name
        widget.window().grab().save(str(path))
        print(f"wrote {path.relative_to(ROOT)}")

    # A rate limit that makes the first sync of 5,000 end users take a while, as it would.
    desk = DeskApp(app, home, MemoryOnly("screenshots"),
                   demo_settings=DemoSettings(users=5000, rate_limit=240))
    try:
        # 1. Sign-in, as a person without an account sees it first.
        desk.ask_sign_in()
        dialog = desk._dialog
        assert dialog is not None
        dialog.resize(560, dialog.sizeHint().height())
        dialog.move(440, 200)
        save(dialog, "sign-in.png")
        dialog.region.setCurrentIndex(dialog.region.findData("demo"))
        dialog.sign_in_button.click()
        wait_until("the demo session", lambda: desk.session is not None, 30)
        session = desk.session
        assert session is not None
        window = session.window
        window.setGeometry(0, 0, 1440, 900)

        # 2. The first sync runs (a pull has no total; the progress shot is a push, step 6).

        # 3. The main window with data, once the sync is done.
        wait_until("the first sync", lambda: session.sync.status.last_success_at is not None, 300)
        settle(1.0)
        facets = window.facets
        plan = next(facets.facets.index(row, 0) for row in range(facets.facets.rowCount())
                    if facets.facets.index(row, 0).data() == "plan")
        facets.expand(plan)  # a property's values and counts, loaded when opened
        settle(1.5)
        save(window, "main-window.png")

        # 3c. File > Export..., over the filter the table shows.
        window.filter_bar.set_text("plan:pro")
        wait_until("the filter's rows", lambda: window.model.filter_text == "plan:pro", 30)
        settle(1.0)
        window.export.open()
        wait_until("the export dialog", lambda: window.export.dialog is not None, 30)
        export_dialog = window.export.dialog
        assert export_dialog is not None
        export_dialog.move(300, 120)
        save(export_dialog, "export.png")
        export_dialog.close()

        # 3c'. View ▸ NPS over plan:pro: the NPS of what the filter shows, by score and by month.
        from PySide6.QtCore import Qt

        window.show_nps_action.trigger()
        window.resizeDocks([window.nps_dock], [330], Qt.Orientation.Vertical)
        panel = window.nps
        wait_until("the NPS of plan:pro", lambda: panel.report is not None and not panel.counting
                   and panel._shown_for == ("plan:pro", panel.period.currentIndex()), 60)
        save(window, "nps.png")
        window.show_nps_action.trigger()  # hidden again: the other shots show the table

        # 3d. A bulk action's confirmation: the filter in words, its count, before -> after.
        from desktop_app.ui.bulk_actions import BulkKind, BulkRequest, BulkScope

        shot: list[bool] = []

        def shoot_confirmation(preview: object) -> bool:
            box, _ok = window.bulk.confirmation_box(preview)
            box.show()
            save(box, "bulk-confirm.png")
            box.close()
            shot.append(True)
            return False  # cancelled: the screenshot changes nothing

        window.bulk.confirm = shoot_confirmation
        window.bulk.run(BulkRequest(BulkKind.SET_PROPERTY, "plan", "Enterprise"), BulkScope(filter_text="plan:pro"))
        wait_until("the bulk confirmation", lambda: bool(shot), 60)
        window.filter_bar.set_text("")
        settle(1.0)

        # 3e. Work from a list: a support team's opt-out list (LibreOffice's `;` CSV), matched.
        emulator = desk.emulator
        assert emulator is not None
        people = [u for u in (emulator.store.get(i) for i in sorted(emulator.store.all_ids())[:180]) if u]
        off = [u for u in people if u["surveys_disabled"]][:2]  # already off: the preview greys them
        people = [u for u in people if u not in off]
        people[2:2], people[5:5] = off[:1], off[1:]
        rows = ["Name;E-mail"]
        for n, person in enumerate(people):
            email = str(person["email"])
            rows.append(f"Customer {n + 1};{email.upper() if n % 7 == 0 else email}")
        rows += ["Walk-in;someone@elsewhere.example", "Trade fair;visitor@fair.example",
                 f"Customer 3 again;{people[2]['email']}", "No address;call me back"]
        listed = home / "support-optouts.csv"
        listed.write_bytes(("\n".join(rows) + "\n").encode("utf-8-sig"))
        window.open_list_window()
        lists = next(w for w in app.topLevelWidgets() if w.objectName() == "ListWindow")
        lists.setGeometry(120, 60, 1200, 780)
        lists.open_file(listed)
        wait_until("the list read", lambda: lists.table is not None and lists.match_button.isEnabled(), 30)
        lists.match()
        wait_until("the match report", lambda: lists.matched is not None, 60)
        settle(0.8)
        save(lists, "list-report.png")
        lists.tabs.setCurrentIndex(1)
        save(lists, "list-preview.png")
        lists.close()  # nothing applied: the other shots see the demo data as it was

        # 4. The editor: an end user selected, the detail panel ready to edit.
        window.table.selectRow(2)
        settle(0.6)
        focus = getattr(window.detail, "focus_editor", None)
        if callable(focus):
            focus()
        save(window, "editor.png")

        # 4b. At 1024 x 768: the side panels give way, the table keeps its columns.
        window.setGeometry(0, 0, 1024, 768)
        settle(1.0)
        save(window, "main-window-1024.png")
        window.setGeometry(0, 0, 1440, 900)
        settle(0.5)

        # 5. Conflicts: the same property changed here and "by a colleague" on the service.
        ids = sorted(emulator.store.all_ids())[:4]
        for n, end_user_id in enumerate(ids):
            session.cache.result().set_property([end_user_id], "plan", ["Growth", "Enterprise", "Pro", "Team"][n])
            emulator.store.set_property(end_user_id, "plan", ["Starter", "Business", "Basic", "Solo"][n])
        session.sync.sync_now()
        wait_until("conflicts", lambda: session.cache.result().conflict_count() >= 3, 60)
        window.open_conflicts()
        settle(1.0)
        conflicts = next(w for w in app.topLevelWidgets() if w.objectName() == "ConflictsView")
        conflicts.resize(1100, 600)
        save(conflicts, "conflicts.png")
        conflicts.close()

        # 6. Sync progress with a total: a bulk edit's push, out of the outbox's size.
        session.cache.result().set_property(sorted(emulator.store.all_ids())[10:1510], "plan", "Enterprise")
        session.sync.sync_now()

        def pushing_with_estimate() -> bool:
            s = session.sync.status
            # Between the rate limit's minutes the bar says how long it waits: either is the shot.
            return s.state is SyncState.SYNCING and s.phase == "push" and s.done > 150

        wait_until("push progress", pushing_with_estimate, 240)
        settle(0.5)
        save(window, "sync-progress.png")

    finally:
        desk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
