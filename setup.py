"""Build of the optional C extension; everything else is in pyproject.toml.

`app.query._native` is the rule index's per-post loop in C. It is optional: where no C compiler
is present the build skips it and the index runs the same loop in Python (slower, same answers).
How the tests check it (ASan/UBSan build, fuzz against Python, leaks) and how to build it with the
sanitizers by hand: docs/native.md.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("app.query._native", ["app/query/_native.c"], optional=True)])
