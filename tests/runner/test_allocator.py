"""The allocator setting keeps freed blocks for reuse: a churn of large blocks stops page-faulting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mininet.runner.cli.allocator import _glibc

# Six 4 MiB blocks alive together, then freed, ten times over; prints the minor page faults per round.
CHURN = r"""
import ctypes, resource, sys
sys.path[:0] = {path!r}
if {tuned}:
    from mininet.runner.cli.allocator import keep_freed_memory
    assert keep_freed_memory()
from mininet.runner.cli.allocator import _glibc
libc = _glibc()
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
libc.posix_memalign.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_size_t]
SIZE = 4 << 20
blocks = [ctypes.c_void_p() for _ in range(6)]  # made once: no other allocation between the blocks
def churn():
    for p in blocks:
        assert libc.posix_memalign(ctypes.byref(p), 64, SIZE) == 0
        libc.memset(p, 1, SIZE)
    for p in blocks:
        libc.free(p)
churn(); churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    churn()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults_per_round(tuned: bool) -> float:
    code = CHURN.format(path=sys.path, tuned=tuned)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


@pytest.mark.skipif(_glibc() is None, reason="the setting applies to glibc only")
def test_freed_blocks_are_reused_without_page_faults():
    pages = 6 * (4 << 20) // 4096
    # glibc's default returns the blocks to the kernel: (nearly) every page faults again next round
    default = _faults_per_round(tuned=False)
    assert default > pages / 2
    # measured: 0 to ~400 faults per round (what is left depends on the heap layout that the
    # interpreter's own start-up leaves), against ~6000
    tuned = _faults_per_round(tuned=True)
    print(f"\nminor page faults per round of the 4 MiB churn: {default:.0f} by default, {tuned:.0f} tuned")
    assert tuned < default / 4


def test_opt_out(monkeypatch):
    import mininet.runner.cli.allocator as allocator

    monkeypatch.setattr(allocator, "_tuned", None)
    monkeypatch.setenv("MININET_MALLOC_TUNING", "0")
    assert allocator.keep_freed_memory() is False


@pytest.mark.skipif(_glibc() is None, reason="the setting applies to glibc only")
def test_the_command_sets_it(monkeypatch):
    from click.testing import CliRunner

    import mininet.runner.cli.allocator as allocator
    from mininet.runner.cli import main

    monkeypatch.setattr(allocator, "_tuned", None)
    monkeypatch.delenv("MININET_MALLOC_TUNING", raising=False)
    assert CliRunner().invoke(main, ["list"]).exit_code == 0
    assert allocator._tuned is True
