"""One writer per model directory: an exclusive lock on the hidden file `.<out>.lock` beside `--out`.

The lock is taken beside the real path (atomic.real_path), so a link to `--out`, or a path through
a linked parent, is the same model directory with the same lock.
A second fit aimed at the same `--out` is refused at once (it does not queue behind the first),
so cron jobs never pile up. The kernel drops the lock when its holder exits, even on SIGKILL, so
a lock is never stale; the file itself stays, since deleting it would race with the next writer.
Where `fcntl` is missing (Windows) there is no lock.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Iterator

from forecast_cli.errors import ArtifactError
from forecast_cli.store.atomic import real_path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


def lock_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.lock")


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold the lock of `out` for the block; another holder means ArtifactError (exit 2) at once."""
    if fcntl is None:
        yield
        return
    path = lock_path(real_path(out))
    fd = _open_lock_file(out, path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise ArtifactError(f"--out {out}: another fit (pid {holder}) is writing this model now; wait for it "
                                "to finish, or choose another --out.") from None
        except OSError as exc:  # ENOLCK: a network filesystem without locks
            raise ArtifactError(f"--out {out}: cannot lock {path} ({exc.strerror}); choose an --out on a local "
                                "disk.") from exc
        _write_holder(fd, out, path)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _open_lock_file(out: Path, path: Path) -> int:
    """The lock file, created if absent; a link or anything but a regular file planted there is refused,
    since truncating it for our pid would truncate what it points to."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        planted = exc.errno == errno.ELOOP  # a link planted where the lock file goes: removing it is the fix
        problem = "it is a symbolic link" if planted else exc.strerror
        advice = "remove it or choose another --out" if planted else "choose another --out"
        raise ArtifactError(f"--out {out}: cannot create its lock file {path} ({problem}); {advice}.") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ArtifactError(f"--out {out}: its lock file {path} is not a regular file; remove it or choose "
                            "another --out.")
    return fd


def _write_holder(fd: int, out: Path, path: Path) -> None:
    """Our pid in the lock file, for the message a second writer gets; a full disk fails here first."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as exc:
        raise ArtifactError(f"--out {out}: cannot write its lock file {path} ({exc.strerror}); free some space "
                            "or choose another --out.") from exc
