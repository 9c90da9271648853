"""store/atomic.py: a directory is published whole, leftovers of dead runs (only) are removed, and a file
is written through a temporary sibling that never outlives the write."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from forecast_cli.errors import ConfigError
from forecast_cli.store import atomic


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def make_dir(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.fixture(params=["exchange", "two_renames"])
def swap(request, monkeypatch) -> str:
    """Both ways publish swaps: renameat2(RENAME_EXCHANGE), and the two renames used where it is missing."""
    if request.param == "two_renames":
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    return request.param


def test_publish_replaces_a_directory_whole(tmp_path, swap):
    target = make_dir(tmp_path / "model", {"old.json": "old", "shared.txt": "old"})
    staged = make_dir(atomic.staging_dir(target), {"shared.txt": "new", "new.json": "new"})
    atomic.publish(staged, target)
    assert names(target) == ["new.json", "shared.txt"]
    assert (target / "shared.txt").read_text() == "new"
    assert names(tmp_path) == ["model"]  # neither the staging folder nor the previous version is left


def test_publish_to_a_new_path_moves_the_staged_folder_there(tmp_path):
    staged = make_dir(atomic.staging_dir(tmp_path / "model"), {"a.txt": "a"})
    atomic.publish(staged, tmp_path / "model")
    assert names(tmp_path) == ["model"] and names(tmp_path / "model") == ["a.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_published_folder_and_files_get_the_modes_of_a_plain_create_under_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        staged = atomic.staging_dir(tmp_path / "model")  # mkdtemp: owner-only
        make_dir(staged, {"a.txt": "a"})
        (staged / "a.txt").chmod(0o600)  # as mkstemp makes it
        atomic.publish(staged, tmp_path / "model")
    finally:
        os.umask(previous)
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "model" / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_staging_folder_is_hidden_beside_its_target_and_names_this_process(tmp_path):
    staged = atomic.staging_dir(tmp_path / "sub" / "model")
    assert staged.parent == tmp_path / "sub"
    assert staged.name.startswith(f".model{atomic.TEMP_MARK}{os.getpid()}-")


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_remove_stale_removes_only_the_folders_of_dead_processes(tmp_path):
    target = make_dir(tmp_path / "model", {"manifest.json": "{}"})
    dead = dead_pid()
    gone = make_dir(tmp_path / f".model{atomic.TEMP_MARK}{dead}-abc", {"half.bin": "x"})
    kept = [
        atomic.staging_dir(target),  # this process's own, in use
        make_dir(tmp_path / f".model{atomic.TEMP_MARK}{os.getppid()}-def", {}),  # a live process's
        make_dir(tmp_path / f".model{atomic.TEMP_MARK}1-pqr", {}),  # init's: alive, another user's unless root
        make_dir(tmp_path / f".model{atomic.TEMP_MARK}nopid-ghi", {}),  # not one of ours
        make_dir(tmp_path / f".other{atomic.TEMP_MARK}{dead}-jkl", {}),  # another target's
        make_dir(tmp_path / f".model.checkpoint{atomic.TEMP_MARK}{dead}-mno", {}),  # the checkpoint's
    ]
    assert atomic.remove_stale(target) == [gone]
    assert not gone.exists()
    assert all(folder.is_dir() for folder in kept)
    assert names(target) == ["manifest.json"]


def test_write_text_replaces_the_file_and_leaves_no_temporary(tmp_path):
    (tmp_path / "report.md").write_text("old")
    atomic.write_text(tmp_path / "report.md", "# new\n")
    assert (tmp_path / "report.md").read_text() == "# new\n"
    assert names(tmp_path) == ["report.md"]


def test_a_write_that_fails_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    (tmp_path / "forecast.csv").write_text("old")

    def fill_disk(temporary: Path) -> None:
        temporary.write_text("half of the ")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ConfigError) as raised:
        atomic.write_file(tmp_path / "forecast.csv", fill_disk)
    assert str(raised.value) == (f"{tmp_path / 'forecast.csv'}: cannot be written (No space left on device); "
                                 "choose another path.")
    assert (tmp_path / "forecast.csv").read_text() == "old"
    assert names(tmp_path) == ["forecast.csv"]


def test_write_text_failing_at_the_rename_leaves_no_temporary(tmp_path, monkeypatch):
    def refuse(source, destination):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(ConfigError, match=r"report\.md: cannot be written \(Permission denied\)"):
        atomic.write_text(tmp_path / "report.md", "text")
    assert names(tmp_path) == []


def test_write_text_into_a_missing_folder_is_refused_naming_it(tmp_path):
    path = tmp_path / "nowhere" / "report.md"
    with pytest.raises(ConfigError) as raised:
        atomic.write_text(path, "text")
    assert str(raised.value) == f"{path}: folder {path.parent} does not exist; create it or choose another path."
    assert names(tmp_path) == []


def test_write_text_onto_a_folder_is_refused(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ConfigError, match=r"taken: is a folder; give a file name\."):
        atomic.write_text(tmp_path / "taken", "text")
    assert names(tmp_path) == ["taken"] and names(tmp_path / "taken") == []


def test_write_text_writes_utf8_whatever_the_locale(tmp_path):
    path = tmp_path / "report.md"
    code = ("import sys\nfrom pathlib import Path\nfrom forecast_cli.store.atomic import write_text\n"
            "write_text(Path(sys.argv[1]), 'mape |\\u0177\\u2212y|/|y|\\n')\n")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))}
    environment.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-300:]
    assert path.read_bytes() == "mape |ŷ−y|/|y|\n".encode("utf-8")
