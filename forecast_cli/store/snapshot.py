"""Read a model directory's files through one handle on the directory, each checked before it is read.

The handle (`os.open` of the directory) pins the directory that was there when it was opened: a refit
that swaps a new directory in (atomic.publish) in the middle of a load cannot hand this reader the old
manifest with the new weights. Every file is opened relative to that handle, without following a
symbolic link and without blocking, then `fstat` on the open descriptor says whether it is a regular
file of at most its bound, before a byte is read: a FIFO, a device, a link (to /dev/zero, or even to
a file beside it: fit writes plain files only) or a huge file is refused in one line.
Imports neither torch nor safetensors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Iterator

from forecast_cli.errors import ArtifactError

MIB = 2**20
NOT_A_DIRECTORY = (errno.ENOENT, errno.ENOTDIR)


class Snapshot:
    """One model directory as it was when opened; `read` each file through it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def read(self, name: str, limit: int, what: str) -> bytes | None:
        """The bytes of `name` (at most `limit`, else ArtifactError naming `what` the file holds); None if absent."""
        where = self.path / name
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self._fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ArtifactError(f"{where}: is a symbolic link; a model directory holds plain files only "
                                    "(fit writes no links), so it was not followed. Fit the model again.") from None
            raise ArtifactError(f"{where}: cannot be read ({exc.strerror}); check its permissions.") from None
        with open(fd, "rb", closefd=True) as handle:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise ArtifactError(f"{where}: is not a regular file ({_kind(status.st_mode)}); "
                                    "fit the model again.")
            if status.st_size > limit:
                raise too_big(where, status.st_size, limit, what)
            try:
                data = handle.read(limit + 1)
            except OSError as exc:
                raise ArtifactError(f"{where}: cannot be read ({exc.strerror}); check the disk.") from None
        if len(data) > limit:  # grew after fstat
            raise too_big(where, len(data), limit, what)
        return data


    def replaced(self) -> bool:
        """Whether the path now names another directory than the one this snapshot reads (or none)."""
        try:
            now = os.stat(self.path)
        except OSError:
            return True
        opened = os.fstat(self._fd)
        return (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino)


def too_big(where: Path, size: int, limit: int, what: str) -> ArtifactError:
    return ArtifactError(f"{where}: is {size:,} bytes, more than the {limit:,} {what} can take; "
                         "the model directory is damaged or not ours. Fit the model again.")


@contextlib.contextmanager
def open_snapshot(path: Path) -> Iterator[Snapshot]:
    """The directory `path` (a link to a directory is followed: the user named it) for the block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in NOT_A_DIRECTORY:
            raise ArtifactError(f"{path}: no model directory here; run `forecast fit` first or pass --model.") from None
        raise ArtifactError(f"{path}: cannot be opened ({exc.strerror}); check its permissions.") from None
    except ValueError:  # a NUL byte in the path
        raise ArtifactError(f"{path!r}: is not a usable path (it holds a NUL byte); pass --model DIR.") from None
    try:
        yield Snapshot(Path(path), fd)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a plain file"
