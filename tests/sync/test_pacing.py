"""The pacer keeps a CPU-bound worker's share of the time down; it never slows idle waiting."""

from __future__ import annotations

import threading
import time

import pytest

from desktop_app.sync.pacing import MAX_REST_S, Pacer


def _compute(seconds: float) -> None:
    """Burn this much CPU time on the calling thread."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_busy_worker_rests_until_its_share_is_kept() -> None:
    pacer = Pacer(0.5)
    pacer.begin()
    started, cpu = time.perf_counter(), time.thread_time()
    _compute(0.04)
    # On a loaded machine the computing itself may take twice its CPU time: then the share is
    # kept already and nothing is owed. Otherwise the pacer must rest.
    owed = time.thread_time() - cpu > 0.5 * (time.perf_counter() - started)
    pacer()
    used = time.thread_time() - cpu
    assert (pacer.rested_s > 0) is owed
    assert used <= 0.5 * (time.perf_counter() - started) + 0.002


def test_waiting_counts_as_rest() -> None:
    pacer = Pacer(0.5)
    pacer.begin()
    time.sleep(0.05)  # the network answering slowly: no computing, so nothing to make up
    _compute(0.005)
    pacer()
    assert pacer.rested_s == 0


def test_no_share_never_rests_and_a_rest_is_capped() -> None:
    unpaced = Pacer(None)
    _compute(0.02)
    unpaced()
    assert unpaced.rested_s == 0
    strict = Pacer(0.01)
    strict.begin()
    _compute(0.02)  # would ask for two seconds of rest
    strict()
    assert 0 < strict.rested_s <= MAX_REST_S


def test_a_cancel_ends_a_rest() -> None:
    cancel = threading.Event()
    cancel.set()
    pacer = Pacer(0.01, sleep=cancel.wait)
    pacer.begin()
    _compute(0.02)
    started = time.perf_counter()
    pacer()
    assert time.perf_counter() - started < MAX_REST_S / 2


def test_share_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="share"):
        Pacer(0.0)
    with pytest.raises(ValueError, match="share"):
        Pacer(1.5)
