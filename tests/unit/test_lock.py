"""One writer per model directory, however its path is spelled: the lock is taken on the real path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forecast_cli.errors import ArtifactError
from forecast_cli.store import lock


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
