"""``python -m sync.county``: the same as the ``gridroom-county`` command."""

import sys

from .cli import main

sys.exit(main())
