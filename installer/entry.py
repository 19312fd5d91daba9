"""The frozen bundle's entry point: exactly ``gridroom`` as the wheel installs it."""

import multiprocessing
import sys

from desktop.cli import main

if __name__ == "__main__":
    # A frozen app that ever starts a worker process must call this first (no-op otherwise).
    multiprocessing.freeze_support()
    sys.exit(main())
