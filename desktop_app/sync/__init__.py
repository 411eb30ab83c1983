"""Reconciling the local cache with the service: pull (end users, survey history), push with
three-way merge, reconcile."""

from __future__ import annotations

from desktop_app.sync.merge import MergePlan, plan_push
from desktop_app.sync.service import SyncService
from desktop_app.sync.status import SyncPhase, SyncState, SyncStatus

__all__ = ["MergePlan", "SyncPhase", "SyncService", "SyncState", "SyncStatus", "plan_push"]
