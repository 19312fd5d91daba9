"""Benchmarks: not part of the test run; each writes JSON (see docs/benchmarks.md).

Every module here named ``<name>_bench.py`` is one benchmark, run by name:
``python -m tests.bench <name> [options]`` (``./dev bench <name> …``). A module defines
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""
