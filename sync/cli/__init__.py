"""Gridroom's headless subcommands (``gridroom demo``, ``stats``, ``export`` …).

Each subcommand is a module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. None of them imports Qt, so they run on a server or in CI as they do on a
desktop. ``desktop.cli`` hands any argv that names a subcommand to :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence
from typing import Any

from .. import logs
from ..store.errors import StoreError

log = logging.getLogger("gridroom.cli")

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "demo",
    "stats",
    "report",
    "export",
    "import_",
    "login",
    "sync",
    "bundle",
    "relay",
    "doctor",
    "geo",
)


#: Modules whose command name differs from the module's.
_RENAMED = {"import_": "import"}


def _available() -> list[str]:
    """The subcommand modules of this build (without importing them: start-up is paid on
    every ``gridroom sync``, and the demo, geo and export modules pull in numpy, shapely …)."""
    return [m for m in COMMANDS if importlib.util.find_spec(f"{__name__}.{m}") is not None]


def _modules(only: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _available():
        if only is not None and _RENAMED.get(name, name) != only:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        found[module.NAME] = module
    return found


def names() -> set[str]:
    return {_RENAMED.get(m, m) for m in _available()}


def build_parser(prog: str = "gridroom", only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or (``only``) of that one alone: the others are then not
    imported at all."""
    parser = argparse.ArgumentParser(prog=prog, description="网格通·指挥室 Gridroom")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _modules(only).items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in names() else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    # Every subcommand leaves a trail (the user's log folder; secrets redacted), and a crash's
    # traceback goes there as well as to stderr.
    logs.start(f"gridroom {args.command}", file_name=logs.CLI_LOG_FILE)
    try:
        status = int(args._run(args) or 0)
    except StoreError as exc:
        # Known, environmental problems: plain words, no traceback, nothing half-done.
        log.warning("gridroom %s: %s (%s)", args.command, exc, exc.code)
        print(f"gridroom {args.command}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        log.info("gridroom %s: interrupted", args.command)
        print(f"gridroom {args.command}: interrupted", file=sys.stderr)
        return 130
    log.info("gridroom %s finished with exit status %d", args.command, status)
    return status
