"""Gridroom's headless subcommands (``gridroom demo``, ``stats``, ``export`` …).

Each subcommand is a module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. None of them imports Qt, so they run on a server or in CI as they do on a
desktop. ``desktop.cli`` hands any argv that names a subcommand to :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
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


def _modules() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not built in this version
            raise
        found[module.NAME] = module
    return found


def names() -> set[str]:
    return set(_modules())


def build_parser(prog: str = "gridroom") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="网格通·指挥室 Gridroom")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _modules().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
