"""Where export text goes: a file replaced atomically, a device or FIFO written as a stream, or a
caller's binary or text stream."""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, TextIO, cast

from desktop_app.user_errors import UserFacingError

ENCODING = "utf-8"
# Lone surrogates (only possible from malformed JSON) have no UTF-8 form; they become "?".
ENCODING_ERRORS = "replace"


class ExportError(UserFacingError):
    """The export could not be written; the message says why in plain words."""

    title = "The export could not be written"


class ExportTarget(Protocol):
    path: Path | None

    def write(self, text: str) -> None: ...

    def commit(self) -> None:
        """Make everything written visible (for files: durably, under the final name)."""
        ...

    def discard(self) -> None:
        """Drop what was written, as far as that is possible; never raises."""
        ...


class AtomicFileTarget:
    """Writes to a hidden temp file beside `path`; `commit` fsyncs and renames it into place.

    Until `commit`, an existing file at `path` is untouched, and `discard` leaves no trace.
    A new file is created readable by its owner only (an export holds people's emails); a
    file being replaced keeps its permissions.
    """

    def __init__(self, path: Path) -> None:
        self.path: Path | None = path
        self._final = path
        if path.is_dir():
            raise ExportError(f"Cannot export to {path}: it is a folder. Choose a file name.")
        if not path.parent.is_dir():
            raise ExportError(f"Cannot export to {path}: the folder {path.parent} does not exist.")
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        self._temp = Path(temp)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")

    @property
    def temp_path(self) -> Path:
        return self._temp

    def write(self, text: str) -> None:
        assert self._file is not None, "write after commit or discard"
        self._file.write(text.encode(ENCODING, ENCODING_ERRORS))

    def commit(self) -> None:
        assert self._file is not None, "commit after commit or discard"
        file, self._file = self._file, None
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        try:
            mode = stat.S_IMODE(os.stat(self._final).st_mode)
        except FileNotFoundError:
            pass
        else:
            os.chmod(self._temp, mode)
        os.replace(self._temp, self._final)
        _fsync_folder(self._final.parent)

    def discard(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass  # the disk already failed us; removing the temp file is what matters
        try:
            self._temp.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass  # nothing more we can do; never mask the original error


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform or file system can, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StreamTarget:
    """A stream the caller owns (stdout, a socket, a BytesIO): written, flushed, never closed.

    A stream cannot be un-written: after a cancel it holds a partial export.
    """

    def __init__(self, stream: BinaryIO | TextIO) -> None:
        self.path: Path | None = None
        buffer = getattr(stream, "buffer", None) if isinstance(stream, io.TextIOWrapper) else None
        if buffer is not None:
            # sys.stdout and friends: write UTF-8 bytes underneath, so neither the console's
            # encoding nor newline translation ("\r\n" -> "\r\r\n" on Windows) alters the CSV.
            stream.flush()
            self._stream: BinaryIO | TextIO = buffer
            self._text = False
        else:
            self._stream = stream
            self._text = isinstance(stream, io.TextIOBase)

    def write(self, text: str) -> None:
        if self._text:
            cast(TextIO, self._stream).write(text)  # `_text` says which of the two it is
        else:
            cast(BinaryIO, self._stream).write(text.encode(ENCODING, ENCODING_ERRORS))

    def commit(self) -> None:
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()

    def discard(self) -> None:
        pass


class SpecialFileTarget(StreamTarget):
    """A character device or a FIFO (`/dev/stdout`, `/dev/full`, a named pipe): opened and
    written in place as a stream, never renamed over (that would replace the device)."""

    def __init__(self, path: Path) -> None:
        self._owned: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in commit/discard
        super().__init__(self._owned)
        self.path = path

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._owned.close()

    def discard(self) -> None:
        try:
            self._owned.close()
        except OSError:
            pass  # the device already failed us; never mask the original error


def open_target(destination: Path | str | os.PathLike[str] | BinaryIO | TextIO) -> ExportTarget:
    """A target for `destination`: a path (str or PathLike) or an open stream.

    A symlink is followed: the file it points to is replaced atomically, the link stays.
    A character device or a FIFO is written as a stream; anything else that is not a regular
    file (a socket, a block device) is refused.
    """
    if isinstance(destination, (str, os.PathLike)):
        path = Path(destination).expanduser().absolute()
        try:
            path = _follow_links(path) if path.is_symlink() else path
            mode = _mode_of(path)
            if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
                return SpecialFileTarget(path)
            if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ExportError(f"Cannot export to {path}: it is not a file (a socket or a disk "
                                  "device). Choose a file name.")
            return AtomicFileTarget(path)
        except OSError as exc:
            raise describe_os_error(exc, path) from exc
    if not hasattr(destination, "write"):
        raise TypeError(f"cannot export to {type(destination).__name__}: not a path or a stream")
    return StreamTarget(destination)


def _follow_links(path: Path) -> Path:
    """The file a symlink chain ends at (it may not exist yet); a loop is an OSError (ELOOP)."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:  # a dangling link: the export creates its target
        return Path(os.path.realpath(path))


def _mode_of(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None


def describe_os_error(exc: OSError, path: Path | None) -> ExportError:
    """A plain-words ExportError for a failed write (the OS error stays chained as the cause)."""
    if path is None:
        return ExportError(f"Could not export to the output stream: {_stream_reason(exc)}.")
    folder = path.parent
    if _is_special(path):
        return ExportError(f"Could not export to {path}: {_stream_reason(exc)}.")
    reasons = {
        errno.EACCES: f"you do not have permission to write in {folder}",
        errno.EPERM: f"you do not have permission to write in {folder}",
        errno.EROFS: f"{folder} is on a read-only disk",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "your disk quota is used up",
        errno.ENOENT: (f"{folder} does not take new files" if folder.is_dir()
                       else f"the folder {folder} does not exist"),
    }
    reason = reasons.get(exc.errno or 0) or _strerror(exc)
    return ExportError(
        f"Could not export to {path}: {reason}. Nothing was written; an existing file there "
        "is unchanged."
    )


def _is_special(path: Path) -> bool:
    """A path written as a stream (a device, a FIFO): a failure may leave part of the export."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _stream_reason(exc: OSError) -> str:
    if exc.errno == errno.EPIPE:
        return "the program reading the output stopped"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return _strerror(exc)


def _strerror(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()
