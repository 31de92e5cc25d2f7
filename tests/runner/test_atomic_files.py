"""Issue 4: files are written whole or not at all (runner.files)."""

from __future__ import annotations

import os
import stat

import pytest

from mininet.runner.results.files import atomic_path, atomic_write, write_text


def leftovers(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_write_creates_folders_and_the_whole_file(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    write_text(target, "line 1\nline 2\n")
    assert target.read_text() == "line 1\nline 2\n"
    with atomic_write(target, "wb") as f:
        f.write(b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert leftovers(target.parent, {"out.txt"}) == []


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "results.csv"
    target.write_text("old, complete\n")
    with pytest.raises(type(error)):
        with atomic_write(target) as f:
            f.write("new, half")
            raise error
    assert target.read_text() == "old, complete\n"
    assert leftovers(tmp_path, {"results.csv"}) == []
    missing = tmp_path / "never.txt"
    with pytest.raises(type(error)):
        with atomic_path(missing) as tmp:
            tmp.write_text("partial")
            raise error
    assert not missing.exists() and leftovers(tmp_path, {"results.csv"}) == []


def test_permissions_of_an_existing_file_are_kept_and_new_files_follow_the_umask(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old")
    os.chmod(target, 0o750)
    write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.txt"
        write_text(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def test_only_whole_file_modes(tmp_path):
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_write(tmp_path / "x", "a"):
            pass
