"""Read a running application's accessibility tree over AT-SPI and print it as JSON.

Runs under the system python (`/usr/bin/python3`), the one python3-pyatspi is built for:
    reader.py APP_NAME TIMEOUT_S
Each node: its path of roles, role, name, description, states, the labels it is labelled by,
and its value or text where it has one.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pyatspi

# Children of these are their rows and cells: hundreds of D-Bus calls that say nothing about names.
LEAF_ROLES = {pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE_TABLE, pyatspi.ROLE_TREE, pyatspi.ROLE_LIST}
MAX_NODES = 3000
TEXT_ROLES = {pyatspi.ROLE_TEXT, pyatspi.ROLE_ENTRY, pyatspi.ROLE_PASSWORD_TEXT}


def find_app(name: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        desktop = pyatspi.Registry.getDesktop(0)
        for index in range(desktop.childCount):
            app = desktop.getChildAtIndex(index)
            if app is not None and app.name == name and app.childCount:
                return app
        if time.monotonic() > deadline:
            names = [desktop.getChildAtIndex(i).name for i in range(desktop.childCount)]
            sys.exit(f"no application {name!r} on the accessibility bus; there are {names}")
        time.sleep(0.2)


def node(acc: Any, path: list[str]) -> dict[str, Any]:
    states = acc.getState()
    found: dict[str, Any] = {
        "path": "/".join(path),
        "role": acc.getRoleName(),
        "name": acc.name or "",
        "description": acc.description or "",
        "showing": states.contains(pyatspi.STATE_SHOWING),
        "focusable": states.contains(pyatspi.STATE_FOCUSABLE),
    }
    try:
        found["value"] = acc.queryValue().currentValue
    except NotImplementedError:
        pass
    labels = [target.name for relation in acc.getRelationSet()
              if relation.getRelationType() == pyatspi.RELATION_LABELLED_BY
              for target in (relation.getTarget(i) for i in range(relation.getNTargets())) if target is not None]
    if labels:
        found["labelled_by"] = labels
    if acc.getRole() in TEXT_ROLES:  # what is in a field, as a screen reader reads it out
        try:
            found["text"] = acc.queryText().getText(0, -1)
        except NotImplementedError:
            pass
    return found


def walk(root: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    stack: list[tuple[Any, list[str]]] = [(root, [root.getRoleName()])]
    while stack and len(nodes) < MAX_NODES:
        acc, path = stack.pop()
        nodes.append(node(acc, path))
        if acc.getRole() in LEAF_ROLES:
            continue
        for index in reversed(range(acc.childCount)):
            child = acc.getChildAtIndex(index)
            if child is not None:
                stack.append((child, [*path, child.getRoleName()]))
    return nodes


def main() -> None:
    name, timeout = sys.argv[1], float(sys.argv[2])
    print(json.dumps(walk(find_app(name, timeout))))


if __name__ == "__main__":
    main()
