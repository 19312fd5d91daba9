"""``python -m tests.bench NAME [options]``: run one benchmark by name (see ``__init__``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

SUFFIX = "_bench"


def benchmarks() -> dict[str, ModuleType]:
    """Every ``*_bench`` module of this package, by name (``store_bench`` → ``store``)."""
    found = {}
    for info in pkgutil.iter_modules(_package_path()):
        if info.name.endswith(SUFFIX):
            found[info.name[: -len(SUFFIX)]] = importlib.import_module(f"tests.bench.{info.name}")
    return dict(sorted(found.items()))


def _package_path() -> list[str]:
    import tests.bench

    return list(tests.bench.__path__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description="Gridroom benchmarks (JSON out)."
    )
    sub = parser.add_subparsers(dest="name", metavar="NAME")
    for name, module in benchmarks().items():
        help_text = getattr(module, "HELP", "")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
