"""The ``gridroom`` entry point: the desktop app, or a headless subcommand.

Headless subcommands live in ``sync.cli`` and never import Qt; only the GUI path does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from sync import cli as headless

    if (
        argv
        and (argv[0] in headless.names() or argv[0] in ("-h", "--help"))
        and not any(a in ("--demo", "--screenshots", "--self-test") for a in argv)
    ):
        if argv[0] in ("-h", "--help"):
            headless.build_parser().print_help()
            print(
                "\nWithout a command, gridroom opens the desktop app: "
                "gridroom [--demo] [--db PATH] [--screenshots DIR] [--self-test]"
            )
            return 0
        return headless.main(argv)
    from desktop.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
