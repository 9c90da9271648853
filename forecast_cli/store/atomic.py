"""Publish a directory or a file atomically: build it beside the target, then swap it in with one rename.

A reader (or a crash) sees either the old directory or the new one, never a mix. On Linux the
swap is `renameat2(RENAME_EXCHANGE)`; elsewhere two renames leave a window of microseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from forecast_cli.errors import ConfigError

RENAME_EXCHANGE = 2
AT_FDCWD = -100
TEMP_MARK = ".tmp-"


def real_path(path: Path) -> Path:
    """`path` with its symbolic links resolved (the last part's too, and `..` after a link), so every
    spelling of one model directory locks, stages and publishes in the same place: an --out that is a
    link writes through to the directory it points to, and the link stays. Where no link is involved
    the path comes back as given, so messages keep the user's spelling."""
    path = Path(path)
    real = Path(os.path.realpath(path))
    return path if real == Path(os.path.abspath(path)) else real


def staging_dir(target: Path) -> Path:
    """A fresh hidden directory beside `target` (same filesystem, so rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_MARK}{os.getpid()}-", dir=target.parent))


def default_permissions(path: Path) -> None:
    """Give a file or folder made by mkstemp/mkdtemp (owner-only) the modes a plain create would have
    under the user's umask, so a model or report written by cron is readable like any other file."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def publish(staged: Path, target: Path) -> None:
    """Move `staged` to `target`, replacing any previous directory there in one step (`target` is a real
    path, real_path's: a link there would itself be replaced)."""
    for path in (staged, *staged.iterdir()):
        default_permissions(path)
    _fsync_tree(staged)
    if target.exists() and _exchange(staged, target):
        shutil.rmtree(staged, ignore_errors=True)  # now holds the previous version
    elif target.exists():
        retired = staging_dir(target)
        os.rename(target, retired / "old")
        os.rename(staged, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staged, target)
    _fsync_dir(target.parent)


def remove_stale(target: Path) -> list[Path]:
    """Delete staging directories left beside `target` by runs whose process is gone."""
    removed = []
    for candidate in target.parent.glob(f".{target.name}{TEMP_MARK}*"):
        pid = candidate.name[len(target.name) + len(TEMP_MARK) + 1:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the platform cannot."""
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(second))


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (see write_file)."""

    def write(temporary: Path) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as stream:
            stream.write(text)

    write_file(path, write)


def check_file_target(path: Path) -> None:
    """Refuse a path no file can be written to (its folder missing, or a folder itself); the CLI calls
    this before any work, so a bad --output fails at once."""
    try:
        if not path.parent.exists():
            raise ConfigError(f"{path}: folder {path.parent} does not exist; create it or choose another path.")
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder; give a file name.")
    except (OSError, ValueError) as exc:  # a name too long for the filesystem, a NUL byte in it
        raise _cannot_write(path, exc) from exc


def _cannot_write(path: Path, exc: Exception) -> ConfigError:
    reason = getattr(exc, "strerror", None) or "the name holds a NUL byte"
    shown = str(path).replace("\x00", "\\x00")
    return ConfigError(f"{shown}: cannot write there ({reason}); choose another path.")


def write_file(path: Path, write: Callable[[Path], None]) -> None:
    """Have `write` fill a temporary sibling, then rename it to `path`, so readers never see half a file;
    a path that cannot be written (a folder, no space, no permission) is a ConfigError naming it. A path
    that is a link is written through: the file it points to is replaced, the link stays."""
    path = Path(path)
    try:
        path = real_path(path)
        check_file_target(path)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise _cannot_write(path, exc) from exc
    os.close(handle)
    try:
        write(Path(temporary))
        default_permissions(Path(temporary))
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror or exc}); choose another path.") from exc
    finally:
        Path(temporary).unlink(missing_ok=True)
