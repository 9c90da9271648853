"""store/lock.py: one holder per `--out`; a second is refused at once, naming the first one's pid;
the lock goes when its block ends, raises, or its process dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from forecast_cli.errors import ArtifactError
from forecast_cli.store import lock

pytestmark = pytest.mark.skipif(lock.fcntl is None, reason="no fcntl here, so no lock (Windows)")


def refusal(out: Path, pid: int) -> str:
    return (f"--out {out}: another fit (pid {pid}) is writing this model now; wait for it to finish, "
            "or choose another --out.")


def test_a_second_holder_of_the_same_out_is_refused_naming_the_first_ones_pid(tmp_path):
    out = tmp_path / "model"
    with lock.exclusive(out):
        with pytest.raises(ArtifactError) as raised:
            with lock.exclusive(out):
                pytest.fail("a second holder entered the block")
    assert str(raised.value) == refusal(out, os.getpid())


def test_the_lock_is_released_after_the_block(tmp_path):
    out = tmp_path / "model"
    with lock.exclusive(out):
        pass
    with lock.exclusive(out):
        pass


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    out = tmp_path / "model"
    with pytest.raises(ZeroDivisionError):
        with lock.exclusive(out):
            raise ZeroDivisionError
    with lock.exclusive(out):
        pass


def test_another_out_in_the_same_folder_has_its_own_lock(tmp_path):
    with lock.exclusive(tmp_path / "model"):
        with lock.exclusive(tmp_path / "other"):
            pass


def test_the_lock_file_is_hidden_beside_out_holds_the_pid_and_stays(tmp_path):
    out = tmp_path / "runs" / "model"
    assert lock.lock_path(out) == tmp_path / "runs" / ".model.lock"
    lock.lock_path(out).parent.mkdir()
    lock.lock_path(out).write_text("123456789012\n")  # a longer pid left by an earlier holder
    with lock.exclusive(out):
        assert lock.lock_path(out).read_text() == f"{os.getpid()}\n"
    assert lock.lock_path(out).is_file()
    assert not out.exists()  # the lock makes the folder it lives in, not `out` itself


def test_an_out_under_a_file_is_refused_naming_the_lock_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "model"
    with pytest.raises(ArtifactError) as raised:
        with lock.exclusive(out):
            pytest.fail("entered the block without a lock")
    assert str(raised.value).startswith(f"--out {out}: cannot create its lock file {lock.lock_path(out)} (")
    assert str(raised.value).endswith("); choose another --out.")


HOLDER = ("import sys\nfrom pathlib import Path\nfrom forecast_cli.store.lock import exclusive\n"
          "with exclusive(Path(sys.argv[1])):\n    print('held', flush=True)\n    sys.stdin.read()\n")


def test_a_holder_in_another_process_is_named_and_its_death_frees_the_lock(tmp_path):
    out = tmp_path / "model"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(ArtifactError) as raised:
            with lock.exclusive(out):
                pytest.fail("entered the block while another process held the lock")
        assert str(raised.value) == refusal(out, holder.pid)
    finally:
        holder.kill()  # SIGKILL: no cleanup runs in the holder; the kernel drops its lock
        holder.wait(timeout=60)
    with lock.exclusive(out):
        assert lock.lock_path(out).read_text() == f"{os.getpid()}\n"


# One writer however the path is spelled: the lock is taken on the real path.
def spellings(tmp_path: Path) -> dict[str, Path]:
    """The directory tmp/real/m under other names: a link to it, a path through a linked parent, a
    relative spelling with `..` after a link."""
    (tmp_path / "real" / "m").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real" / "m")
    (tmp_path / "linked-parent").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "deeper").mkdir()
    (tmp_path / "up").symlink_to(tmp_path / "real" / "deeper")
    return {"a link to it": tmp_path / "link", "a linked parent": tmp_path / "linked-parent" / "m",
            "dot-dot after a link": tmp_path / "up" / ".." / "m"}


@pytest.mark.parametrize("spelling", ["a link to it", "a linked parent", "dot-dot after a link"])
def test_two_spellings_of_one_directory_share_one_lock(tmp_path, spelling):
    other = spellings(tmp_path)[spelling]
    with lock.exclusive(tmp_path / "real" / "m"):
        with pytest.raises(ArtifactError, match=f"pid {os.getpid()}"):
            with lock.exclusive(other):
                pytest.fail("a second holder got the lock")
    with lock.exclusive(other):  # released: the other spelling may take it now
        with pytest.raises(ArtifactError, match="another fit"):
            with lock.exclusive(tmp_path / "real" / "m"):
                pytest.fail("a second holder got the lock")


def test_the_lock_file_lies_beside_the_real_directory(tmp_path):
    link = spellings(tmp_path)["a link to it"]
    with lock.exclusive(link):
        pass
    assert (tmp_path / "real" / ".m.lock").is_file()
    assert not (tmp_path / ".link.lock").exists()


@pytest.mark.parametrize("plant", ["symlink to a file", "fifo"])
def test_a_planted_lock_file_is_refused_and_what_it_points_to_untouched(tmp_path, plant):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / ".m.lock"
    planted.symlink_to(victim) if plant == "symlink to a file" else os.mkfifo(planted)
    with pytest.raises(ArtifactError, match="lock file"):
        with lock.exclusive(tmp_path / "m"):
            pytest.fail("the lock was taken through a planted file")
    assert victim.read_text() == "precious\n"
