"""Large index buffers go back to the operating system as soon as a build frees them.

glibc serves big allocations with their own memory mapping, but each time such a block is freed it
raises that threshold (up to 32 MB), and later numpy arrays of a few megabytes then come from the heap,
which cannot shrink past a live block. A 100k-entry build left about 240 MB the process no longer used
and pushed the peak past what the index needs. Fixing the threshold keeps every large array in its own
mapping; queries only allocate small arrays, so they never pay for a mapping.
"""

from __future__ import annotations

import ctypes
import sys

_M_MMAP_THRESHOLD = -3  # mallopt parameter number, from glibc's malloc.h
_THRESHOLD_BYTES = 128 * 1024  # glibc's own default before it starts adjusting it
_done = False


def map_large_buffers() -> None:
    """Fix glibc's mmap threshold once per process; a no-op elsewhere (other systems, other C libraries)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES)
