"""Testing one migration on a store taken back to the schema before it.

A test that undoes migration N by hand and sets ``user_version`` to N's position would have
every later migration run again on tables that already have their columns. Inside
:func:`migrations_through`, the store knows only the migrations up to and including N, so
opening it applies N (and its back-fill) alone, wherever N stands in the list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sync.store import schema


def position(name: str) -> int:
    """The ``user_version`` of a store that has every migration before ``name``."""
    return [m.name for m in schema.MIGRATIONS].index(name)


@contextlib.contextmanager
def migrations_through(name: str) -> Iterator[None]:
    saved, version = list(schema.MIGRATIONS), schema.SCHEMA_VERSION
    end = position(name) + 1
    schema.MIGRATIONS[:] = saved[:end]
    schema.SCHEMA_VERSION = end
    try:
        yield
    finally:
        schema.MIGRATIONS[:] = saved
        schema.SCHEMA_VERSION = version
