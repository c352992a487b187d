"""The optional C extension `app.query._native` (app/query/_native.c), or None.

None where it was not built (no C compiler at install) or where REPOSTER_PURE_PYTHON is set;
the tokenizer, a post's keys and the index then run the same code in Python.
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("REPOSTER_PURE_PYTHON"):
        return None
    try:
        from app.query import _native
    except ImportError:
        return None
    return _native


native = _load()
