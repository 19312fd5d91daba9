"""``sqlite_utils``, imported without numpy and pandas.

sqlite-utils imports numpy and pandas when they are installed (the desktop bundle ships numpy
for shapely), only to map their scalar types to column types. The store never writes numpy or
pandas values, and numpy alone is ~60 ms of every ``gridroom sync`` start-up on a village PC,
so they are hidden from that one import; anything that imports numpy later gets it as usual.
"""

from __future__ import annotations

import sys

_HIDDEN = [name for name in ("numpy", "pandas") if name not in sys.modules]
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # makes `import numpy` fail here
try:
    import sqlite_utils
finally:
    for _name in _HIDDEN:
        if sys.modules.get(_name, 0) is None:
            del sys.modules[_name]

__all__ = ["sqlite_utils"]
