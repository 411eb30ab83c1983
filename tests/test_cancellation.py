"""Every cancellation of the app is one `Cancelled`, and the error sinks keep each one silent."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from pathlib import Path

import pytest

import desktop_app
from desktop_app.api.errors import WaitInterrupted
from desktop_app.cancellation import Cancelled
from desktop_app.export.csv_export import ExportCancelled
from desktop_app.logs import ErrorSink, is_cancellation
from desktop_app.sync.service import SyncCancelled

OURS: tuple[type[BaseException], ...] = (ExportCancelled, SyncCancelled, WaitInterrupted)


def test_the_list_above_holds_every_cancellation_class_in_the_app() -> None:
    """A new `...Cancelled` / `...Interrupted` class must join the list (and so the base)."""
    package = Path(desktop_app.__file__).parent
    declared = {
        match.group(1)
        for source in package.rglob("*.py")
        for match in re.finditer(r"^class (\w*(?:Cancel|Interrupt)\w*)\(", source.read_text(), re.M)
    }
    assert declared == {cls.__name__ for cls in OURS} | {"Cancelled"}


@pytest.mark.parametrize("cls", OURS, ids=lambda cls: cls.__name__)
def test_every_cancellation_type_is_a_cancelled(cls: type[BaseException]) -> None:
    assert issubclass(cls, Cancelled)
    with pytest.raises(Cancelled):
        raise cls("stopped")


@pytest.mark.parametrize("cls", OURS, ids=lambda cls: cls.__name__)
def test_is_cancellation_recognises_each_and_the_sink_stays_silent(cls: type[BaseException]) -> None:
    error = cls("stopped")
    assert is_cancellation(error)
    sink = ErrorSink()
    heard: list[object] = []
    sink.subscribe(heard.append)
    assert sink.report(error, "a worker") is None
    assert heard == [] and sink.reports() == []


def test_other_libraries_cancellations_are_still_recognised_and_errors_are_not() -> None:
    assert is_cancellation(asyncio.CancelledError())
    assert is_cancellation(concurrent.futures.CancelledError())

    class OperationCancelled(Exception):  # a keyring backend's, say: matched by name
        pass

    assert is_cancellation(OperationCancelled())
    assert is_cancellation(Cancelled())
    assert not is_cancellation(RuntimeError("the cache could not be opened"))
    assert not is_cancellation(ValueError("cancelled"))  # the word in a message is not enough
