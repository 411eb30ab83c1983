"""Files: written whole or not at all; cancel and failures leave no debris and keep old files."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.export import ExportCancelled, ExportError, ExportOptions, export_csv
from desktop_app.export.csv_export import BATCH_SIZE
from desktop_app.export.destination import AtomicFileTarget
from nasty_end_users import SeedUser, make_cache

ROWS = 2 * BATCH_SIZE + BATCH_SIZE // 2  # three query batches, the last one short


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndUserQuery]:
    """One read-only cache for the whole module: the tests only read it."""
    users = [
        SeedUser(i, f"user{i:05d}@example.com", properties={"plan": "pro", f"k{i % 7}": i})
        for i in range(1, ROWS + 1)
    ]
    engine = make_cache(tmp_path_factory.mktemp("many") / "cache.sqlite3", users)
    yield EndUserQuery(engine)
    engine.dispose()


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can create files in, the owner included (root too: immutable flag)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "existing.csv").write_bytes(b"old,content\r\n")
    immutable = False
    if os.geteuid() == 0:  # root ignores permission bits; the immutable attribute binds it
        chattr = shutil.which("chattr")
        done = chattr and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0
        if not done:
            pytest.skip("running as root without chattr: cannot make a folder read-only")
        immutable = True
    else:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def test_a_finished_export_replaces_the_file_atomically(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    target.write_text("previous export\r\n")
    target.chmod(0o640)
    seen_during: list[bytes] = []

    def progress(done: int, total: int) -> None:
        seen_during.append(target.read_bytes())  # the old file stays whole while we write

    result = export_csv(many, "", target, ExportOptions(columns=["id"]), progress=progress)
    assert result.rows == ROWS
    assert set(seen_during) == {b"previous export\r\n"}
    assert target.read_bytes().count(b"\r\n") == ROWS + 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its mode
    assert debris(tmp_path) == []


def test_a_new_file_is_private_to_its_owner(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    export_csv(many, "", target, ExportOptions(columns=["id", "email"]))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds people's emails


def test_cancel_mid_way_leaves_no_file(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    calls: list[tuple[int, int]] = []
    temp_seen: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        temp_seen.append(debris(tmp_path))

    with pytest.raises(ExportCancelled):
        export_csv(many, "", target, progress=progress, cancelled=lambda: len(calls) >= 2)
    assert calls == [(0, ROWS), (BATCH_SIZE, ROWS)]  # it stopped after the first batch
    assert temp_seen[-1], "the export was really writing a temp file when cancelled"
    assert not target.exists()
    assert debris(tmp_path) == []


def test_cancel_keeps_an_existing_destination(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    target.write_bytes(b"precious\r\n")
    batches = 0

    def progress(done: int, total: int) -> None:
        nonlocal batches
        batches += 1

    with pytest.raises(ExportCancelled):
        export_csv(many, "", target, progress=progress, cancelled=lambda: batches >= 3)
    assert target.read_bytes() == b"precious\r\n"
    assert debris(tmp_path) == []


def test_cancel_during_the_property_scan(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    checks = 0

    def cancelled() -> bool:
        nonlocal checks
        checks += 1
        return checks > 2

    with pytest.raises(ExportCancelled):
        export_csv(many, "user", target, cancelled=cancelled)  # a filter: the batched scan
    assert checks == 3  # the start, then two batches of the scan
    assert not target.exists() and debris(tmp_path) == []


def test_read_only_folder_fails_clearly(many: EndUserQuery, read_only_dir: Path) -> None:
    target = read_only_dir / "existing.csv"
    with pytest.raises(ExportError) as info:
        export_csv(many, "", target)
    message = str(info.value)
    assert str(target) in message
    assert "permission" in message or "read-only" in message
    assert "unchanged" in message
    assert isinstance(info.value.__cause__, OSError)
    assert target.read_bytes() == b"old,content\r\n"
    assert debris(read_only_dir) == []


def test_missing_folder_and_folder_as_file_fail_clearly(many: EndUserQuery, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export_csv(many, "", tmp_path / "nowhere" / "x.csv")
    with pytest.raises(ExportError, match="is a folder"):
        export_csv(many, "", tmp_path)


def test_disk_full_mid_way_removes_the_temp_file(
    many: EndUserQuery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "people.csv"
    target.write_bytes(b"precious\r\n")
    real_write = AtomicFileTarget.write
    writes = 0

    def failing_write(self: AtomicFileTarget, text: str) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, text)

    monkeypatch.setattr(AtomicFileTarget, "write", failing_write)
    with pytest.raises(ExportError, match="the disk is full"):
        export_csv(many, "", target)
    assert target.read_bytes() == b"precious\r\n"
    assert debris(tmp_path) == []


def test_a_full_output_stream_fails_clearly(many: EndUserQuery) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this platform")
    with open("/dev/full", "wb", buffering=0) as stream, pytest.raises(ExportError, match="output stream"):
        export_csv(many, "", stream)


def test_progress_reaches_the_total(many: EndUserQuery, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    export_csv(many, "", tmp_path / "x.csv", ExportOptions(columns=["id"]),
               progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, ROWS), (BATCH_SIZE, ROWS), (2 * BATCH_SIZE, ROWS), (ROWS, ROWS)]


def test_str_paths_work_like_paths(many: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "s.csv"
    result = export_csv(many, "user00001", str(target), ExportOptions(columns=["id"]))
    assert result.path == target and target.read_bytes() == b"id\r\n1\r\n"


# --- special files: written in place as streams, never renamed over -------------------------

def test_a_fifo_is_written_as_a_stream_and_stays_a_fifo(many: EndUserQuery, tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = export_csv(many, "user00001", fifo, ExportOptions(columns=["id"]))
    reader.join(timeout=30)
    assert received == [b"id\r\n1\r\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert result.path == fifo and debris(tmp_path) == []


def test_dev_full_is_a_clear_error_and_stays_a_device(many: EndUserQuery) -> None:
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full on this platform")
    with pytest.raises(ExportError, match="/dev/full: the disk is full") as info:
        export_csv(many, "", full)
    assert "unchanged" not in str(info.value)  # a stream cannot promise that
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_a_symlink_is_followed_and_its_target_replaced_atomically(
    many: EndUserQuery, tmp_path: Path
) -> None:
    real = tmp_path / "real" / "people.csv"
    real.parent.mkdir()
    real.write_bytes(b"old\r\n")
    real.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    export_csv(many, "user00001", link, ExportOptions(columns=["id"]))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"id\r\n1\r\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert debris(tmp_path) == [] and debris(real.parent) == []


def test_a_dangling_symlink_creates_its_target(many: EndUserQuery, tmp_path: Path) -> None:
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "new.csv")
    export_csv(many, "user00001", link, ExportOptions(columns=["id"]))
    assert link.is_symlink() and (tmp_path / "new.csv").read_bytes() == b"id\r\n1\r\n"


def test_a_socket_is_refused_and_left_alone(many: EndUserQuery, tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(ExportError, match="not a file"):
            export_csv(many, "", path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_folder_that_takes_no_new_files_is_not_called_missing(many: EndUserQuery) -> None:
    if not Path("/proc/version").exists():
        pytest.skip("no /proc on this platform")
    with pytest.raises(ExportError) as info:
        export_csv(many, "", "/proc/version")
    assert "does not exist" not in str(info.value)
    assert "/proc" in str(info.value)
