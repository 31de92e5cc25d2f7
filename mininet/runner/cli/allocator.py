"""Keep freed tensor memory in the process, so that every epoch's large tensors do not page-fault.

Vectorized repetitions evaluate R x 2000 samples after every epoch: a handful of tensors of a few MiB
each, allocated and freed once per epoch. glibc's malloc serves blocks above its mmap threshold with
``mmap`` and unmaps them on ``free``, and gives free memory at the heap top back to the kernel beyond
its trim threshold; both thresholds adapt to the program's history, so depending on it the next
epoch touches fresh pages and page-faults every one of them. Fixing the two thresholds keeps such
blocks in the heap for reuse (``tests/runner/test_allocator.py`` counts the faults). This is what
the PyTorch CPU performance guides get from jemalloc or tcmalloc, without preloading a library.

The setting is process-wide and applies to both backends alike. It is a no-op where the C library
is not glibc (macOS, musl), and ``MININET_MALLOC_TUNING=0`` leaves the allocator as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap (glibc's own cap for the threshold is 32 MiB on 64-bit)
MMAP_THRESHOLD = 32 * 2**20
#: free memory at the heap top is returned to the kernel only beyond this
TRIM_THRESHOLD = 1 * 2**30

_tuned: bool | None = None


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # only glibc has it
        libc.mallopt
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds for this process; True when they were set.

    Idempotent: the first call decides.
    """
    global _tuned
    if _tuned is None:
        libc = None if os.environ.get("MININET_MALLOC_TUNING") == "0" else _glibc()
        _tuned = bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                      and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned
