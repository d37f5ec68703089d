"""The compiled loops (`_speedups.c`), or None where the package was installed without a C compiler.

Each caller keeps a Python or numpy version of the same loop next to it, runs that when this is None, and
tests check both give the same results.
"""

try:
    from knowledge import _speedups as speedups
except ImportError:  # installed without a C compiler
    speedups = None

__all__ = ["speedups"]
