"""The command-line process keeps the memory it frees for reuse (glibc on Linux).

By default glibc gives every allocation over a few megabytes its own fresh pages from the system and
returns them when it is freed. Reading a CSV of millions of rows makes and frees gigabytes of such
arrays (columns, timestamps, scaled blocks), and each one's pages are faulted in and zeroed again on
first write: with transparent huge pages, measured here, that system time was a quarter of fit's read
(bench/reading.py). Raising the mmap and trim thresholds lets later arrays reuse freed pages.

It also asks NumPy for ordinary 4 KiB pages (`NUMPY_MADVISE_HUGEPAGE=0`, unless the environment sets
it): NumPy marks every large array for transparent huge pages, and on this kind of virtual machine the
kernel's zeroing of fresh 2 MiB pages (clear_page under do_huge_pmd_anonymous_page, in `perf`) was 41% of
fit's read at 5M rows; the medians of three runs of bench/reading.py's prepare step went from 2.73 user +
2.55 system CPU-s to 2.75 + 0.70 with it, at the same peak RSS.

Only `forecast` itself does this, a one-shot process whose memory goes back when it exits; the
Python API leaves its host process's allocator alone. Elsewhere (macOS, musl) nothing changes.
"""

from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30  # 1 GiB: arrays below it come from the heap, not pages of their own
TRIM_THRESHOLD = 2**31 - 1  # mallopt's largest: free memory at the heap's top is returned above 2 GiB only


def keep_freed_memory() -> bool:
    """Raise glibc's thresholds for this process; True when it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def small_pages_for_numpy() -> bool:
    """Set NUMPY_MADVISE_HUGEPAGE=0 unless the environment gives it; True when it is 0 now. Read by NumPy
    when it is imported, so this must run first (the CLI imports NumPy lazily: never for --help)."""
    if "numpy" in sys.modules:
        return os.environ.get("NUMPY_MADVISE_HUGEPAGE") == "0"
    return os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0") == "0"
