"""Only the optional C extension lives here; everything else is in pyproject.toml.

knowledge/_speedups.c compiles the text loops a knowledge-base build spends most of its time in. It is
optional: without a C compiler the install still succeeds and knowledge.text runs the same loops in Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("knowledge._speedups", ["knowledge/_speedups.c"], optional=True)])
